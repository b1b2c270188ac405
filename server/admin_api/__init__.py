"""The App Services Admin API v3.0 (``/api/admin/v3.0``): admin keys and sessions (``keys``,
``auth``), the app (``apps``), and its users, pending registrations and API keys.

Apart from the client API: its own token types and sessions (``keys``), its own routes
(``ROUTES``, mounted by ``server.routes``), services that never see a request. Every admin
route calls ``auth.require_admin`` (or ``auth.require_app``) first.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import auth, routes_audit, routes_users

ROUTES: list[BaseRoute] = [*auth.ROUTES, *routes_users.ROUTES, *routes_audit.ROUTES]
