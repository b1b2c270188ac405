"""The ASGI app of one app config: routes, middleware and the lifespan that opens the services."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from .cors import CORSMiddleware
from .errors import ApiError, CatchAllMiddleware, handle_api_error, handle_http_exception
from .observability import lifecycle
from .observability.middleware import Observe
from .plain_errors import PlainErrorsMiddleware
from .quiet_status import QuietStatusMiddleware
from .route_cache import install as install_route_cache
from .routes.table import ROUTES
from .settings import Settings
from .web import frontend_routes, picture_origins
from .wiring import build_services

__all__ = ["create_app"]


def create_app(settings: Settings) -> Starlette:
    """The ASGI app for one app config."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = await build_services(settings)
        app.state.services = services
        await lifecycle.start(services)
        try:
            yield
        finally:
            await lifecycle.stop(services)
            await services.functions.close()
            await services.store.close()

    routes: list[BaseRoute] = list(ROUTES)
    if settings.serve_frontend:
        routes += frontend_routes(img_sources=picture_origins(settings), app_id=settings.app_id)
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(Observe),
            Middleware(CORSMiddleware, allowed=settings.allowed_origins),
            Middleware(QuietStatusMiddleware),
            Middleware(CatchAllMiddleware),
            Middleware(PlainErrorsMiddleware),
        ],
        exception_handlers={
            ApiError: handle_api_error,
            HTTPException: handle_http_exception,
        },
        lifespan=lifespan,
    )
    # The base of every error's link to /docs/errors (server.errors.link_base).
    app.state.error_link_base = settings.public_url or settings.link_base_url
    install_route_cache(app.router)  # Issue 15: the route of a path, found once.
    return app
