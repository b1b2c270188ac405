"""Every route of the API, in the order Starlette tries them (mounted by ``server.app``)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from .. import error_docs
from ..admin_api.routes import ROUTES as ADMIN_ROUTES
from ..observability import routes as observability
from ..openapi import routes as openapi

# Importing a provider module registers its providers with ``services.providers.PROVIDERS``.
from ..services import api_keys as _api_key_provider  # noqa: F401
from ..services import custom_auth as _custom_providers  # noqa: F401
from ..services import social as _social_providers  # noqa: F401
from . import (
    api_keys,
    auth,
    factors,
    function_stream,
    functions,
    location,
    oauth,
    session,
    user_sessions,
)

# Starlette tries routes in order, a regular expression each (about 2 us apiece here): the
# function call, the busiest route and the only one with its path, comes first.
ROUTES: list[BaseRoute] = [
    *functions.ROUTES,
    *location.ROUTES, *auth.ROUTES, *oauth.ROUTES, *session.ROUTES, *api_keys.ROUTES,
    *error_docs.ROUTES, *openapi.ROUTES, *ADMIN_ROUTES,
    *factors.ROUTES,
    *user_sessions.ROUTES, *observability.ROUTES,
    *function_stream.ROUTES,
]
