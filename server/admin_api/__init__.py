"""The App Services Admin API v3.0 (``/api/admin/v3.0``): admin keys and sessions (``keys``,
``auth``), the app (``apps``), and its users, pending registrations and API keys.

Apart from the client API: its own token types and sessions (``keys``), its own routes
(``admin_api.routes.ROUTES``, mounted by ``server.routes``), services that never see a request.
Every admin route calls ``auth.require_admin`` (or ``auth.require_app``) first.

The package itself imports nothing, so that a command (``serve.py admin-keys``, through
``admin_api.cli``) can import its modules without the routes, which import the client API's.
"""
