"""Latchkey's server: an App Services client API v2.0 compatible backend on Starlette.

``create_app(settings)`` builds the ASGI app: thin routes (``server.routes``), HTTP-free services
(``server.services``) and a ``Store`` (``server.store``), wired by a lifespan that opens the store,
loads or creates the signing key and loads the app's functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .settings import Settings
    from .wiring import build_services

__all__ = ["Settings", "build_services", "create_app"]

#: Where each name lives; imported on first use, so that ``import server.settings`` (and the
#: admin commands) do not pay for the routes, the middleware and every service.
_LAZY = {"create_app": "app", "build_services": "wiring", "Settings": "settings"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'server' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
