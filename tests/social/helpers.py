"""Wire helpers of the social login tests: a client of one ``SocialServer`` and store counts."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from app.sdk import routes
from server.services.oauth_redirect import STATE_COLLECTION
from server.store import open_store_for
from tests.server.auth_helpers import DEVICE, LiveApi, bearer

from .provider import SocialServer

CLIENT_STATE = "abcdefghijkl"


class SocialApi(LiveApi):
    """``LiveApi`` plus social logins and the redirect flow, on one ``SocialServer``."""

    def __init__(self, social: SocialServer) -> None:
        super().__init__(social.live)
        self.social = social

    def social_login(self, provider: str, body: dict[str, Any],
                     link_token: str | None = None) -> httpx.Response:
        return self.login_raw(provider, body, link_token)

    def user_count(self) -> int:
        """Users in the server's store (to prove nothing was half-created)."""
        return len(self._with_store(lambda store: store.list_users()))

    def state_exists(self, state: str) -> bool:
        """Whether the server still keeps the record of one of its OAuth ``state`` values."""
        doc = self._with_store(lambda store: store.get_document(STATE_COLLECTION, state))
        return doc is not None

    def _with_store(self, read: Callable[[Any], Awaitable[Any]]) -> Any:
        # A second connection to the server's database (SQLite or PostgreSQL alike).
        settings = self.live.settings

        async def run() -> Any:
            store = open_store_for(settings.database_url, settings.data_dir)
            await store.open()
            try:
                return await read(store)
            finally:
                await store.close()

        return asyncio.run(run())

    def start_redirect(self, provider: str, redirect: str, *, state: str = CLIENT_STATE,
                       device: dict[str, Any] | None = None,
                       link_token: str | None = None) -> httpx.Response:
        """The first request of the redirect flow, as realm-web builds it (protocol 3.5)."""
        params = {"state": state, "redirect": redirect}
        headers = {}
        if link_token is not None:
            params = {"link": "true", **params, "providerRedirectHeader": "true"}
            headers = bearer(link_token)
        else:
            info = device if device is not None else DEVICE["options"]["device"]
            params["device"] = base64.b64encode(json.dumps(info).encode()).decode()
        url = routes.login(self.live.app_id, provider)
        return self.http.get(url, params=params, headers=headers)


def fragment(url: str) -> dict[str, str]:
    """The ``_baas_*`` values of the URL the flow ends on."""
    return dict(parse_qsl(urlsplit(url).fragment, keep_blank_values=True))


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
