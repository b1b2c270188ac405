"""Latchkey's server: an App Services client API v2.0 compatible backend on Starlette.

``create_app(settings)`` builds the ASGI app: thin routes (``server.routes``), HTTP-free services
(``server.services``) and a ``Store`` (``server.store``), wired by a lifespan that opens the store,
loads or creates the signing key and loads the app's functions.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from .cors import CORSMiddleware
from .errors import ApiError, CatchAllMiddleware, handle_api_error, handle_http_exception
from .js_settings import runtime_app
from .observability import lifecycle
from .observability.middleware import Observe
from .quiet_status import QuietStatusMiddleware
from .route_cache import install as install_route_cache
from .routes import ROUTES
from .runtime import FunctionRuntime
from .services.context import Services
from .services.mailer import Mailer
from .services.tokens import TokenSigner
from .settings import ConfigError, Settings, ensure_data_dir, load_or_create_secret
from .store import Store, is_shared, open_store_for
from .web import frontend_routes, picture_origins

__all__ = ["Settings", "build_services", "create_app"]


async def build_services(settings: Settings, store: Store | None = None) -> Services:
    """Open the store and assemble the services for a settings object."""
    ensure_data_dir(settings.data_dir)
    store = store or open_store_for(settings.database_url, settings.data_dir)
    await store.open()
    key = await signing_key(settings, store)
    return Services(
        settings=settings,
        store=store,
        signer=TokenSigner(key, settings.app_id),
        mailer=Mailer(settings.mail, settings.data_dir),
        functions=FunctionRuntime(settings.functions_module,
                                  time_limit=settings.function_time_limit,
                                  workers=settings.function_workers,
                                  memory_bytes=settings.function_memory_bytes,
                                  result_bytes=settings.function_result_bytes,
                                  app=runtime_app(settings)),
    )


async def signing_key(settings: Settings, store: Store) -> str:
    """The key that signs access and refresh tokens, made on first start.

    A SQLite store keeps it in the data dir (0600); a shared store such as PostgreSQL keeps it in
    the database, since every process behind one address must sign and check with the same key
    and processes on other machines share no data dir.
    """
    if not is_shared(store):
        return load_or_create_secret(settings.data_dir, "signing-key")
    key = await store.set_meta_if_absent("signing_key", secrets.token_urlsafe(32))
    if len(key) < 32:
        raise ConfigError("The signing key in the database is damaged; delete the meta row "
                          "'signing_key' to make a new one (every session ends).")
    return key


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
        routes += frontend_routes(img_sources=picture_origins(settings))
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(Observe),
            Middleware(CORSMiddleware, allowed=settings.allowed_origins),
            Middleware(QuietStatusMiddleware),
            Middleware(CatchAllMiddleware),
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
