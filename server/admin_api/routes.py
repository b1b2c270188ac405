"""Every route of the Admin API, mounted by ``server.routes``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import auth, routes_audit, routes_users

ROUTES: list[BaseRoute] = [*auth.ROUTES, *routes_users.ROUTES, *routes_audit.ROUTES]
