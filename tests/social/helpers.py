"""Wire helpers of the social login tests: a client of one ``SocialServer`` and store counts."""

from __future__ import annotations

import base64
import json
import sqlite3
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from app.sdk import routes
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
        """Users in the server's SQLite store (to prove nothing was half-created)."""
        path = self.live.settings.database_url.removeprefix("sqlite:")
        with sqlite3.connect(path) as db:
            return int(db.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    def state_count(self) -> int:
        path = self.live.settings.database_url.removeprefix("sqlite:")
        with sqlite3.connect(path) as db:
            row = db.execute("SELECT COUNT(*) FROM documents WHERE collection='oauth_state'")
            return int(row.fetchone()[0])

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
