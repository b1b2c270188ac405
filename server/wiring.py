"""The services of one app config, on an open store: what the server and the admin commands share.

Kept apart from ``server.app`` so that a command that only needs the store and the services
(``serve.py users ...``) does not import the routes, the middleware and Starlette's app.
"""

from __future__ import annotations

import secrets

from .js_settings import runtime_app
from .runtime import FunctionRuntime
from .services.context import Services
from .services.mailer import Mailer
from .services.tokens import TokenSigner
from .settings import ConfigError, Settings, ensure_data_dir, load_or_create_secret
from .store import Store, is_shared, open_store_for

__all__ = ["build_services", "signing_key"]


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
