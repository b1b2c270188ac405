"""``Services``: what every service function receives (settings, store, signer, mailer, functions).

Built once per server by the lifespan in ``server.create_app``; routes reach it through
``request.app.state.services``. Services never see a ``Request``.

``FunctionContext`` is the server's side of a function call's context: what a call carries to
its worker (app id, caller) and what a worker may ask back (custom user data), see
``server.runtime``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..runtime import FunctionRuntime
from ..settings import Settings
from ..store.base import Store
from .mailer import Mailer
from .tokens import TokenSigner


@dataclass
class Services:
    """The server's shared state for one app."""

    settings: Settings
    store: Store
    signer: TokenSigner
    mailer: Mailer
    functions: FunctionRuntime
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FunctionUser:
    """The calling user as a server function sees it (its worker reads ``custom_data`` from the
    server only when the function uses it)."""

    id: str
    type: str
    identities: list[dict[str, Any]]
    data: dict[str, Any]


@dataclass(frozen=True)
class FunctionContext:
    """A call's context on the server's side: the app, the caller, and custom data access."""

    app_id: str
    user: FunctionUser | None
    services: Services
    #: ``context.request`` of client calls (App Services' fields; ``server.routes.functions``).
    request: dict[str, Any] | None = None

    async def get_custom_data(self, user_id: str) -> dict[str, Any] | None:
        """The custom user data document of a user, or ``None``."""
        from . import users

        return await users.read_custom_data(self.services, user_id)

    async def set_custom_data(self, user_id: str, doc: dict[str, Any]) -> None:
        """Replace the custom user data document of a user."""
        from . import users

        await users.write_custom_data(self.services, user_id, doc)
