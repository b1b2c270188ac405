"""Latchkey's client SDK: users of an App Services-compatible server, from Pyodide or CPython.

The core is sans-IO and imports only the standard library (STYLE rule 1). Each runtime supplies
one ``Transport`` and one ``Storage``: ``app.sdk.adapters.browser`` in Pyodide,
``app.sdk.adapters.native`` under CPython.

```python
from app.sdk import App, Credentials
from app.sdk.adapters.native import make_app

app = make_app("latchkey-demo", "http://127.0.0.1:8000")
user = await app.log_in(Credentials.anonymous())
print(await user.functions.translate("hello", "en_fr"))
```
"""

from __future__ import annotations

from .app import App
from .credentials import Credentials
from .errors import AppError, ErrorCode
from .http import Request, Response, Transport
from .mfa import SecondFactorRequired
from .passkeys import Authenticator
from .storage import MemoryStorage, Storage
from .user import User, UserState

__all__ = [
    "App",
    "AppError",
    "Authenticator",
    "Credentials",
    "ErrorCode",
    "MemoryStorage",
    "Request",
    "Response",
    "SecondFactorRequired",
    "Storage",
    "Transport",
    "User",
    "UserState",
]
