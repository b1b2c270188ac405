"""Social logins are limited like every other provider (issue 16, item 6): token logins per
address and per social account, and both ends of the redirect flow per address."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from app.sdk import routes
from tests.server.helpers import assert_error

from .helpers import SocialApi, fragment
from .provider import APP_PAGE, SocialServer, follow

GOOGLE = routes.OAUTH2_GOOGLE


def limited(resp: httpx.Response) -> None:
    assert_error(resp, 429, "TooManyRequests")
    assert resp.headers["retry-after"].isdigit(), resp.headers


def test_id_token_logins_are_limited_per_social_account(
        social_server: Callable[..., SocialServer]) -> None:
    api = SocialApi(social_server({"security": {"logins_per_identity": 2}}))
    try:
        provider, client = api.social.provider, api.social.client
        for _ in range(2):
            api.login(GOOGLE, {"id_token": provider.id_token(client)})
        limited(api.social_login(GOOGLE, {"id_token": provider.id_token(client)}))
        api.login(GOOGLE, {"id_token": provider.id_token(client, account="bob")})
    finally:
        api.close()


def test_redirect_flow_ends_are_limited_per_address(
        social_server: Callable[..., SocialServer]) -> None:
    api = SocialApi(social_server({"security": {"logins_per_address": 3}}))
    try:
        start = api.start_redirect(GOOGLE, APP_PAGE)
        assert start.status_code == 302, start.text
        with httpx.Client(timeout=20) as browser:
            callback = follow(browser, start.headers["location"], api.social.callback)
        done: Any = api.http.get(callback.removeprefix(api.live.base_url))
        assert done.status_code == 303 and "_baas_ua" in fragment(done.headers["location"])
        # Start and callback were two; the token login a third; the next start waits.
        api.login(GOOGLE, {"id_token": api.social.provider.id_token(api.social.client)})
        limited(api.start_redirect(GOOGLE, APP_PAGE))
        limited(api.http.get(callback.removeprefix(api.live.base_url)))
    finally:
        api.close()
