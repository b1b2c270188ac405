"""The shared store: PostgreSQL through asyncpg (queries) and psycopg 3 (the schema at ``open``).

Several server processes, on one machine or many, use one database; this package holds what
makes that safe. ``PostgresStore`` is the ``Store`` of a ``postgresql://`` database URL. Its
methods live by concern: ``connection`` (the schema, the rules of how queries run and the query
helpers), ``pool`` (the connections and the cursor the queries run on), ``users`` (users and
identities), ``userpass`` (email/password accounts and tokens), ``sessions`` (sessions and API
keys), ``data`` (meta, documents, rate limits), ``imports`` (users brought from App Services),
``admin`` (the Admin API's keys, sessions and user queries) and ``factors`` (passkeys, ceremony
challenges, TOTP factors). It imports asyncpg and psycopg (the
``postgres`` extra) and nothing of the HTTP layer. ``activity`` holds the audit log and users' lists
of their own sessions.

```python
store = PostgresStore("postgresql://latchkey@db.internal/latchkey")
await store.open()
```
"""

from __future__ import annotations

from .activity import Activity
from .admin import Admin
from .data import Data
from .factors import Factors
from .imports import Imports
from .logins import Logins
from .sessions import Sessions
from .userpass import Userpass
from .users import Users

__all__ = ["PostgresStore"]


class PostgresStore(Users, Userpass, Sessions, Data, Imports, Admin, Factors, Activity,
                    Logins):
    """``Store`` on a PostgreSQL database named by a ``postgresql://`` URL (a libpq conninfo)."""
