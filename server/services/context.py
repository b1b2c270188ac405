"""``Services``: what every service function receives (settings, store, signer, mailer, functions).

Built once per server by the lifespan in ``server.create_app``; routes reach it through
``request.app.state.services``. Services never see a ``Request``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..functions import FunctionRegistry
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
    functions: FunctionRegistry
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FunctionUser:
    """The calling user as a server function sees it."""

    id: str
    type: str
    identities: list[dict[str, Any]]
    data: dict[str, Any]
    custom_data: dict[str, Any]


@dataclass(frozen=True)
class FunctionContext:
    """The first argument of every server function."""

    app_id: str
    user: FunctionUser | None
    services: Services

    async def get_custom_data(self, user_id: str) -> dict[str, Any] | None:
        """The custom user data document of a user, or ``None``."""
        from . import users

        return await users.read_custom_data(self.services, user_id)

    async def set_custom_data(self, user_id: str, doc: dict[str, Any]) -> None:
        """Replace the custom user data document of a user."""
        from . import users

        await users.write_custom_data(self.services, user_id, doc)
