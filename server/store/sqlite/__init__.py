"""The embedded store: one SQLite file in WAL mode, through the stdlib ``sqlite3``.

``SQLiteStore`` is the ``Store`` of the default ``sqlite:`` database URL. Its methods live by
concern in this package: ``connection`` (the file, its transactions and the rules of how queries
run), ``users`` (users and identities), ``userpass`` (email/password accounts and tokens),
``sessions`` (sessions and API keys), ``data`` (meta, documents, rate limits) and ``admin``
(the Admin API's keys, sessions and user queries). It imports the
standard library only, never psycopg or the HTTP layer. ``activity`` holds
the audit log and users' lists of their own sessions.

```python
store = SQLiteStore(Path("data/latchkey.sqlite3"))
await store.open()
```
"""

from __future__ import annotations

from ..schema import SCHEMA_VERSION, schema_statements
from .activity import Activity
from .admin import Admin
from .data import Data
from .factors import Factors
from .imports import Imports
from .logins import Logins
from .sessions import Sessions
from .userpass import Userpass
from .users import Users

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "schema_statements"]


class SQLiteStore(Users, Userpass, Sessions, Data, Imports, Admin, Factors, Activity, Logins):
    """``Store`` on a SQLite file (or ``:memory:``)."""
