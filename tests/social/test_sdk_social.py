"""The SDK's social login against our live server and the real provider, under CPython.

The redirect flow needs a browser window; here ``HttpBrowser`` is that window: it follows the
redirects of our server and the provider with httpx and, on arriving at the app's page, does what
the landing page does (``oauth.handle_redirect`` with the fragment). Everything it talks to is
real; only the window is a stand-in, at the edge where the browser adapter sits. Like a browser,
the window and the app's ``fetch`` share one cookie jar: the server binds each flow to the
browser that started it with a cookie.
"""

from __future__ import annotations

import asyncio
import urllib.request
from collections.abc import Callable
from http.cookiejar import CookieJar
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.sdk import App, AppError, Credentials, ErrorCode, MemoryStorage, UserState, oauth
from app.sdk.adapters.native import UrllibTransport

from .provider import APP_PAGE, SocialServer, follow


class CookieTransport(UrllibTransport):
    """``UrllibTransport`` keeping cookies in a browser's jar, as ``fetch`` does in a page."""

    def __init__(self, jar: CookieJar) -> None:
        super().__init__(use_env_proxies=False)
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                   urllib.request.HTTPCookieProcessor(jar))


class HttpBrowser:
    """A window opener whose "window" follows the flow over HTTP to the app's page."""

    def __init__(self, storage: MemoryStorage, *, account: str = "alice",
                 replaces_page: bool = False, close_instead: bool = False,
                 jar: CookieJar | None = None) -> None:
        self.jar = jar if jar is not None else CookieJar()
        self.storage = storage
        self.account = account
        self.replaces_page = replaces_page
        self.close_instead = close_instead
        self.opened: list[str] = []
        self.closed = False

    def open(self, url: str) -> HttpBrowser | None:
        self.opened.append(url)
        if self.close_instead:
            self.closed = True  # The user closed the popup without signing in.
            return self
        if self.account != "alice":
            url = self._with_hint(url)
        with httpx.Client(timeout=20, cookies=self.jar) as browser:
            landed = follow(browser, url, APP_PAGE)
        # The landing page: handle_auth_redirect() stores the fragment's result.
        oauth.handle_redirect(urlsplit(landed).fragment, self.storage)
        return None if self.replaces_page else self

    def _with_hint(self, url: str) -> str:
        # The provider's URL comes from our server's 302, or directly (X-BAAS-Location).
        if "/auth/providers/" in url:
            with httpx.Client(timeout=20, cookies=self.jar) as browser:
                url = browser.get(url).headers["location"]
        return f"{url}&login_hint={self.account}"

    def close(self) -> None:
        self.closed = True


def make(social: SocialServer, storage: MemoryStorage | None = None,
         opener: Any = None) -> App:
    jar = opener.jar if isinstance(opener, HttpBrowser) else CookieJar()
    return App(social.live.app_id, base_url=social.base_url, transport=CookieTransport(jar),
               storage=storage if storage is not None else MemoryStorage(),
               window_opener=opener)


def test_id_token_code_and_access_token_logins(social_server: Callable[..., SocialServer]) -> None:
    social = social_server()
    provider = social.provider

    async def scenario() -> None:
        app = make(social)
        user = await app.log_in(Credentials.google(id_token=provider.id_token(social.client)))
        assert user.provider_type == "oauth2-google"
        assert user.profile.name == "Alice Example"
        assert user.profile.picture_url == f"{provider.issuer}/pictures/alice.svg"
        assert user.profile.first_name == "Alice" and user.profile.last_name == "Example"
        bob = await app.log_in(Credentials.oidc(auth_code=provider.authorize(
            social.client, account="bob")))
        assert bob.profile.email == "bob@example.com" and app.current_user is bob
        token = provider.tokens(social.client, provider.authorize(social.client))["access_token"]
        facebook = await app.log_in(Credentials.facebook(access_token=token))
        assert facebook.identities[0].provider_type == "oauth2-facebook"
        with pytest.raises(AppError) as info:
            await app.log_in(Credentials.google(id_token="not.a.token"))
        assert info.value.code is ErrorCode.AUTH_ERROR and info.value.status == 401
        providers = await app.fetch_auth_providers()
        assert [p.name for p in providers if p.is_social] == [
            "oauth2-google", "oidc", "oauth2-facebook"]

    asyncio.run(scenario())


def test_popup_redirect_login_and_link(social_server: Callable[..., SocialServer]) -> None:
    social = social_server()

    async def scenario() -> None:
        storage = MemoryStorage()
        app = make(social, storage, HttpBrowser(storage))
        user = await app.log_in(Credentials.google(redirect_url=APP_PAGE))
        assert user.state is UserState.LOGGED_IN and user.profile.name == "Alice Example"
        assert user.refresh_token and app.current_user is user
        assert oauth.pending(storage) == {}
        # Linking Google to an anonymous user, in a second app on another "browser".
        storage2 = MemoryStorage()
        app2 = make(social, storage2, HttpBrowser(storage2, account="bob"))
        anon = await app2.log_in(Credentials.anonymous())
        refresh = anon.refresh_token
        await anon.link_credentials(Credentials.google(redirect_url=APP_PAGE))
        assert [i.provider_type for i in anon.identities] == ["anon-user", "oauth2-google"]
        assert anon.profile.name == "Bob Example" and anon.refresh_token == refresh
        again = await app2.log_in(Credentials.google(redirect_url=APP_PAGE))
        assert again is anon

    asyncio.run(scenario())


def test_full_page_redirect_finishes_after_the_reload(
        social_server: Callable[..., SocialServer]) -> None:
    social = social_server()

    async def scenario() -> None:
        storage = MemoryStorage()
        opener = HttpBrowser(storage, replaces_page=True)
        page = make(social, storage, opener)
        leaving = asyncio.ensure_future(page.log_in(Credentials.google(redirect_url=APP_PAGE)))
        await asyncio.sleep(0.5)
        assert opener.opened and not leaving.done()  # The page has navigated away.
        leaving.cancel()
        # The app's page loads again: a new App on the same storage finishes the login.
        reloaded = make(social, storage, HttpBrowser(storage, replaces_page=True))
        user = await reloaded.complete_redirect_log_in()
        assert user is not None and user.profile.email == "alice@example.com"
        assert reloaded.current_user is user
        assert await reloaded.complete_redirect_log_in() is None

    asyncio.run(scenario())


def test_redirect_failures_are_app_errors(social_server: Callable[..., SocialServer]) -> None:
    social = social_server()

    async def scenario() -> None:
        storage = MemoryStorage()
        denied = make(social, storage, HttpBrowser(storage, account="deny"))
        with pytest.raises(AppError) as info:
            await denied.log_in(Credentials.google(redirect_url=APP_PAGE))
        assert info.value.code is ErrorCode.AUTH_ERROR
        assert "The user declined to sign in." in info.value.message
        closed = make(social, storage, HttpBrowser(storage, close_instead=True))
        with pytest.raises(AppError) as info:
            await closed.log_in(Credentials.google(redirect_url=APP_PAGE))
        assert info.value.code is ErrorCode.WINDOW_CLOSED
        with pytest.raises(ValueError, match="needs a window opener"):
            await make(social).log_in(Credentials.google(redirect_url=APP_PAGE))
        # A redirect URL that is not on the allowlist never reaches the provider: the server
        # refuses it at the link request, where the SDK can see the answer.
        anon = await closed.log_in(Credentials.anonymous())
        with pytest.raises(AppError) as info:
            await anon.link_credentials(Credentials.google(redirect_url="https://evil.example/"))
        assert info.value.code is ErrorCode.INVALID_PARAMETER and info.value.status == 400
        assert denied.all_users == [] and oauth.pending(storage) == {}

    asyncio.run(scenario())
