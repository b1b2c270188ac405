"""The ASGI entry for process managers: ``server.asgi:from_environment``, an app factory.

uvicorn's worker processes (``serve.py --workers N``), gunicorn's ``UvicornWorker`` and the like
start each process from an import string, so the settings come from the environment, which
``serve.py`` fills in before it starts the workers:

- ``LATCHKEY_CONFIG``, ``LATCHKEY_DATA_DIR``, ``DATABASE_URL``: read by ``Settings.load``;
- ``LATCHKEY_PUBLIC_URL``: the public base URL (emails and location answers);
- ``LATCHKEY_LINK_BASE_URL``: the listening address, for links when no public URL is set.

```sh
DATABASE_URL=postgresql://latchkey@db/latchkey \\
    uvicorn --factory server.asgi:from_environment --workers 4 --port 8000
```
"""

from __future__ import annotations

import dataclasses
import logging
import os

from starlette.applications import Starlette
from starlette.config import Config

from .app import create_app
from .settings import Settings

__all__ = ["DropQueryStrings", "from_environment", "keep_query_strings_out_of_logs"]


class DropQueryStrings(logging.Filter):
    """Keeps query strings out of the access log: confirmation and reset links carry
    single-use tokens there, and a log is no place for them. Paths longer than
    ``MAX_LOGGED_PATH`` are cut, so that no request writes more than a short line."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = args[2].split("?", 1)[0]
            if len(path) > MAX_LOGGED_PATH:
                path = path[:MAX_LOGGED_PATH] + "…"
            record.args = (*args[:2], path, *args[3:])
        return True


#: A 60 KB path (uvicorn takes that much) was a 60 KB access log line.
MAX_LOGGED_PATH = 200


def keep_query_strings_out_of_logs() -> None:
    """Install ``DropQueryStrings`` on uvicorn's access log, once per process."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, DropQueryStrings) for f in access.filters):
        access.addFilter(DropQueryStrings())


def from_environment() -> Starlette:
    """The app for the settings named by the environment (see the module docstring)."""
    env = Config(environ=os.environ)
    settings = Settings.load(public_url=env("LATCHKEY_PUBLIC_URL", default=""))
    link_base_url = env("LATCHKEY_LINK_BASE_URL", default="")
    if link_base_url:
        settings = dataclasses.replace(settings, link_base_url=link_base_url)
    # Each worker is a fresh process: the filter that serve.py installed is not in it.
    keep_query_strings_out_of_logs()
    return create_app(settings)
