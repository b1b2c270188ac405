"""The shared store: PostgreSQL through psycopg 3 (async) and a ``psycopg_pool`` connection pool.

Several server processes, on one machine or many, use one database; this package holds what
makes that safe. ``PostgresStore`` is the ``Store`` of a ``postgresql://`` database URL. Its
methods live by concern: ``connection`` (the pool, the schema, the rules of how queries run and
the query helpers), ``users`` (users and identities), ``userpass`` (email/password accounts and
tokens), ``sessions`` (sessions and API keys), ``data`` (meta, documents, rate limits) and
``admin`` (the Admin API's keys, sessions and user queries). It imports psycopg (the
``postgres`` extra) and nothing of the HTTP layer. ``activity`` holds
the audit log and users' lists of their own sessions.

```python
store = PostgresStore("postgresql://latchkey@db.internal/latchkey")
await store.open()
```
"""

from __future__ import annotations

from .activity import Activity
from .admin import Admin
from .data import Data
from .sessions import Sessions
from .userpass import Userpass
from .users import Users

__all__ = ["PostgresStore"]


class PostgresStore(Users, Userpass, Sessions, Data, Admin, Activity):
    """``Store`` on a PostgreSQL database named by a ``postgresql://`` URL (a libpq conninfo)."""
