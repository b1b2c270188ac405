"""End-to-end scenarios of the SDK against the real server, runnable in CPython and in Pyodide.

Each scenario is ``async def scenario_xxx(make_app, ctx)``:

- ``make_app(storage=None, *, wrap=None)`` builds an ``App`` for the server's demo app
  (``latchkey-demo``: anonymous and email/password with auto-confirm). ``storage`` defaults to a
  fresh ``MemoryStorage``; ``wrap(transport)`` may return a transport around the real one
  (``SpyTransport.around``, ``SwitchableTransport.around``).
- ``ctx`` is a ``helpers.ScenarioContext``.

Only the public SDK, the standard library and ``helpers`` (itself stdlib-only) are used: no
pytest, no httpx, so the browser suite can import this module unchanged. ``ALL`` lists every
scenario. Failures are plain ``AssertionError``s.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from typing import Any

from app.sdk import App, AppError, Credentials, ErrorCode, MemoryStorage, Request, User, UserState

from .helpers import (
    ScenarioContext,
    SpyTransport,
    SwitchableTransport,
    bogus_unexpired_token,
    expired_token,
    must_raise,
    plant,
    raises,
    user_key,
)

PASSWORD = "password-1"
API = "/api/client/v2.0"

#: ``make_app(storage=None, *, wrap=None) -> App``
MakeApp = Callable[..., App]


async def _email_user(app: App, ctx: ScenarioContext, label: str = "user") -> tuple[User, str]:
    email = ctx.unique_email(label)
    await app.email_password_auth.register_user(email, PASSWORD)
    return await app.log_in(Credentials.email_password(email, PASSWORD)), email


def state(user: User) -> UserState:
    """``user.state``, read through a call so type checkers do not pin it between steps."""
    return user.state


async def scenario_first_login_is_three_requests(make_app: MakeApp, ctx: ScenarioContext) -> None:
    spy = SpyTransport()
    app = make_app(wrap=spy.around)
    assert app.current_user is None and app.all_users == []
    user = await app.log_in(Credentials.anonymous())
    assert spy.calls() == [
        ("GET", f"{API}/app/{ctx.app_id}/location"),
        ("POST", f"{API}/app/{ctx.app_id}/auth/providers/anon-user/login"),
        ("GET", f"{API}/auth/profile"),
    ]
    login, profile = spy.requests[1], spy.requests[2]
    assert login.headers["Content-Type"] == "application/json"
    assert "Authorization" not in login.headers
    device = json.loads(login.body or "")["options"]["device"]
    assert set(device) >= {"platform", "platformVersion", "sdkVersion"}
    assert profile.headers["Authorization"] == f"Bearer {user.access_token}"
    assert user.state is UserState.LOGGED_IN and app.current_user is user
    assert app.all_users == [user] and user.provider_type == "anon-user"
    assert [i.provider_type for i in user.identities] == ["anon-user"]
    assert user.profile.name is None and user.custom_data == {}


async def scenario_reload_restores_sessions_without_requests(
    make_app: MakeApp, ctx: ScenarioContext
) -> None:
    storage = MemoryStorage()
    app = make_app(storage)
    anon = await app.log_in(Credentials.anonymous())
    member, _email = await _email_user(app, ctx)
    await app.log_in(Credentials.anonymous(reuse=False))
    await member.log_out()
    app.switch_user(anon)
    spy = SpyTransport()
    again = make_app(storage, wrap=spy.around)
    assert spy.requests == [], "restoring sessions must not send any request"
    pairs = list(zip(app.all_users, again.all_users, strict=True))
    for old, new in pairs:
        assert (new.id, new.state, new.provider_type) == (old.id, old.state, old.provider_type)
        assert (new.access_token, new.refresh_token) == (old.access_token, old.refresh_token)
        assert new.profile == old.profile
    assert again.current_user is not None and again.current_user.id == anon.id
    assert [u.state for u in again.all_users].count(UserState.LOGGED_OUT) == 1
    await again.current_user.refresh_profile()
    assert spy.calls() == [
        ("GET", f"{API}/app/{ctx.app_id}/location"),
        ("GET", f"{API}/auth/profile"),
    ]


async def scenario_anonymous_reuse(make_app: MakeApp, ctx: ScenarioContext) -> None:
    spy = SpyTransport()
    app = make_app(wrap=spy.around)
    first = await app.log_in(Credentials.anonymous())
    spy.clear()
    assert await app.log_in(Credentials.anonymous()) is first
    assert spy.requests == [], "reusing the anonymous user must not send any request"
    fresh = await app.log_in(Credentials.anonymous(reuse=False))
    assert fresh.id != first.id and app.current_user is fresh
    assert await app.log_in(Credentials.anonymous()) is fresh


async def scenario_switch_and_log_out(make_app: MakeApp, ctx: ScenarioContext) -> None:
    app = make_app()
    a = await app.log_in(Credentials.anonymous(reuse=False))
    b = await app.log_in(Credentials.anonymous(reuse=False))
    assert a.id != b.id and app.current_user is b and app.all_users == [b, a]
    app.switch_user(a)
    assert app.current_user is a and app.all_users == [a, b]
    app.switch_user(b)
    await b.log_out()
    assert state(b) is UserState.REMOVED, "a logged-out anonymous user is removed"
    assert app.current_user is a and app.all_users == [a]
    must_raise(ValueError, app.switch_user, b)
    await a.log_out()
    assert app.current_user is None and app.all_users == []


async def scenario_email_password_lifecycle(make_app: MakeApp, ctx: ScenarioContext) -> None:
    app = make_app()
    email = ctx.unique_email()
    await app.email_password_auth.register_user(email, PASSWORD)
    user = await app.log_in(Credentials.email_password(email, PASSWORD))
    assert user.profile.email == email and user.provider_type == "local-userpass"
    await user.log_out()
    assert user.state is UserState.LOGGED_OUT and app.all_users == [user]
    assert app.current_user is None and user.access_token is None and user.refresh_token is None
    must_raise(ValueError, app.switch_user, user)
    await raises(ValueError, user.refresh_profile())
    again = await app.log_in(Credentials.email_password(email, PASSWORD))
    assert again is user and state(user) is UserState.LOGGED_IN
    await app.remove_user(user)
    assert state(user) is UserState.REMOVED and app.all_users == []
    await raises(ValueError, app.remove_user(user))


async def scenario_email_password_errors(make_app: MakeApp, ctx: ScenarioContext) -> None:
    app = make_app()
    auth = app.email_password_auth
    member, email = await _email_user(app, ctx)
    err = await raises(AppError, auth.register_user(email, PASSWORD))
    assert err.code is ErrorCode.ACCOUNT_NAME_IN_USE and "name already in use" in err.message
    err = await raises(AppError, app.log_in(Credentials.email_password(email, "wrong-pass")))
    assert (err.code, err.status, err.error) == (ErrorCode.INVALID_PASSWORD, 401, "unauthorized")
    assert member.state is UserState.LOGGED_IN and app.current_user is member
    err = await raises(AppError, auth.register_user(ctx.unique_email(), "short"))
    assert err.status == 400 and "password must be between 6 and 128 characters" in err.error
    err = await raises(AppError, auth.confirm_user("e30=", "some-token-id"))
    assert "invalid token data" in err.error
    await _maybe_fails(auth.resend_confirmation_email(email), "already confirmed")
    await _maybe_fails(auth.retry_custom_confirmation(email), "automatic confirmation is enabled")
    await _maybe_fails(auth.send_reset_password_email(email), "reset password via function")
    await _maybe_fails(auth.call_reset_password_function(email, "new-pass-1", "x"), "")


async def _maybe_fails(awaitable: Any, text: str) -> None:
    # As in realm-web's suite: what succeeds depends on the app's configuration, but when a call
    # fails, it must fail with the expected server text.
    try:
        await awaitable
    except AppError as err:
        assert text in err.error, f"unexpected error text: {err.error!r}"
        assert err.status >= 400 and err.code is not ErrorCode.NETWORK_ERROR


async def scenario_functions(make_app: MakeApp, ctx: ScenarioContext) -> None:
    spy = SpyTransport()
    app = make_app(wrap=spy.around)
    user = await app.log_in(Credentials.anonymous())
    spy.clear()
    assert await user.functions.translate("hello", "en_fr") == "bonjour"
    body = json.loads(spy.requests[0].body or "")
    assert body == {"name": "translate", "arguments": ["hello", "en_fr"]}
    assert spy.requests[0].headers["Authorization"] == f"Bearer {user.access_token}"
    translate = user.functions.translate
    assert await translate("bonjour", "fr_en") == "hello"
    assert await user.call_function("translate", "hello", "en_fr") == "bonjour"
    who = await user.functions.whoami()
    assert who["id"] == user.id
    err = await raises(AppError, user.functions.translate("hello", "xx_yy"))
    assert err.code is ErrorCode.FUNCTION_EXECUTION_ERROR
    err = await raises(AppError, user.call_function("no_such_function"))
    assert err.code is ErrorCode.FUNCTION_NOT_FOUND and "function not found" in err.error
    await raises(AppError, user.call_function("authenticate", {"username": "x"}))
    assert user.state is UserState.LOGGED_IN


async def scenario_function_credentials(make_app: MakeApp, ctx: ScenarioContext) -> None:
    spy = SpyTransport()
    app = make_app(wrap=spy.around)
    payload = {"username": f"fn-{ctx.run_id}", "secret": "v3ry-s3cret", "age": 30}
    user = await app.log_in(Credentials.function(payload))
    body = json.loads(spy.requests[1].body or "")
    assert body["age"] == {"$numberInt": "30"}, "request bodies are canonical EJSON"
    assert user.provider_type == "custom-function"
    assert [i.provider_type for i in user.identities] == ["custom-function"]
    assert await app.log_in(Credentials.function(payload)) is user
    wrong = {**payload, "secret": "guess"}
    err = await raises(AppError, app.log_in(Credentials.function(wrong)))
    assert 400 <= err.status < 500 and app.current_user is user


async def _restored_with_token(make_app: MakeApp, ctx: ScenarioContext, token_for: Any) -> Any:
    """A fresh app on storage whose only user's access token was replaced; with its spy."""
    storage = MemoryStorage()
    user = await make_app(storage).log_in(Credentials.anonymous())
    plant(storage, ctx.app_id, user.id, "accessToken", token_for(user.id))
    spy = SpyTransport()
    app = make_app(storage, wrap=spy.around)
    restored = app.current_user
    assert restored is not None and restored.id == user.id
    return storage, spy, restored


async def scenario_expired_access_token_refreshes_once(
    make_app: MakeApp, ctx: ScenarioContext
) -> None:
    storage, spy, user = await _restored_with_token(make_app, ctx, expired_token)
    planted, refresh = user.access_token, user.refresh_token
    assert spy.inner is not None
    url = f"{ctx.base_url}{API}/auth/profile"
    direct = await spy.inner.send(Request("GET", url, {"Authorization": f"Bearer {planted}"}))
    assert direct.status == 401 and direct.json()["error_code"] == "InvalidSession"
    await user.refresh_profile()
    assert spy.calls() == [
        ("GET", f"{API}/app/{ctx.app_id}/location"),
        ("POST", f"{API}/auth/session"),
        ("GET", f"{API}/auth/profile"),
    ]
    assert spy.requests[1].headers["Authorization"] == f"Bearer {refresh}"
    assert user.access_token != planted and user.refresh_token == refresh
    assert storage.get(user_key(ctx.app_id, user.id, "accessToken")) == user.access_token


async def scenario_concurrent_calls_share_one_refresh(
    make_app: MakeApp, ctx: ScenarioContext
) -> None:
    _storage, spy, user = await _restored_with_token(make_app, ctx, expired_token)
    await asyncio.gather(*(user.refresh_profile() for _ in range(20)))
    assert spy.count("POST", "/auth/session") == 1
    assert spy.count("GET", "/auth/profile") == 20
    assert spy.count("GET", "/location") == 1


async def scenario_rejected_token_refreshes_and_retries(
    make_app: MakeApp, ctx: ScenarioContext
) -> None:
    _storage, spy, user = await _restored_with_token(make_app, ctx, bogus_unexpired_token)
    planted = user.access_token
    await user.refresh_profile()
    assert [call[0] for call in spy.calls()[1:]] == ["GET", "POST", "GET"]
    assert spy.responses[1].status == 401 and spy.responses[3].status == 200
    assert json.loads(spy.responses[1].body)["error_code"] == "InvalidSession"
    assert user.access_token != planted and user.state is UserState.LOGGED_IN
    _storage, spy, user = await _restored_with_token(make_app, ctx, bogus_unexpired_token)
    calls = (user.functions.translate("hello", "en_fr") for _ in range(20))
    assert await asyncio.gather(*calls) == ["bonjour"] * 20
    assert spy.count("POST", "/auth/session") == 1


async def scenario_refresh_failure_logs_user_out(make_app: MakeApp, ctx: ScenarioContext) -> None:
    storage = MemoryStorage()
    member, _email = await _email_user(make_app(storage), ctx)
    plant(storage, ctx.app_id, member.id, "accessToken", expired_token(member.id))
    plant(storage, ctx.app_id, member.id, "refreshToken", "not-a-refresh-token")
    app = make_app(storage)
    user = app.current_user
    assert user is not None
    events: list[str] = []
    user.add_listener(lambda event: events.append(event.type))
    err = await raises(AppError, user.refresh_profile())
    assert (err.code, err.status) == (ErrorCode.INVALID_SESSION, 401)
    assert err.url.endswith("/auth/session")
    assert user.state is UserState.LOGGED_OUT and app.current_user is None
    assert user.access_token is None and events == ["loggedOut"]
    assert storage.get(user_key(ctx.app_id, user.id, "refreshToken")) is None
    await raises(ValueError, user.refresh_profile())


async def scenario_network_errors_never_log_out(make_app: MakeApp, ctx: ScenarioContext) -> None:
    spy, switch = SpyTransport(), SwitchableTransport(offline=True)
    app = make_app(wrap=lambda inner: spy.around(switch.around(inner)))
    err = await raises(AppError, app.log_in(Credentials.anonymous()))
    assert (err.code, err.status) == (ErrorCode.NETWORK_ERROR, 0) and app.all_users == []
    switch.offline = False
    user = await app.log_in(Credentials.anonymous())
    assert spy.count("GET", "/location") == 2, "a failed discovery must be retried"
    tokens = (user.access_token, user.refresh_token)
    switch.offline = True
    for attempt in (user.refresh_profile(), user.refresh_access_token()):
        err = await raises(AppError, attempt)
        assert (err.code, err.status) == (ErrorCode.NETWORK_ERROR, 0)
    assert user.state is UserState.LOGGED_IN and (user.access_token, user.refresh_token) == tokens
    switch.offline = False
    await user.refresh_profile()
    assert spy.count("GET", "/location") == 2, "the location is discovered once per app"


async def scenario_delete_user_uses_that_users_token(
    make_app: MakeApp, ctx: ScenarioContext
) -> None:
    spy = SpyTransport()
    app = make_app(wrap=spy.around)
    member, email = await _email_user(app, ctx)
    token = member.access_token
    other = await app.log_in(Credentials.anonymous())
    spy.clear()
    await app.delete_user(member)
    assert spy.calls() == [("DELETE", f"{API}/auth/delete")]
    assert spy.requests[0].headers["Authorization"] == f"Bearer {token}"
    assert member.state is UserState.REMOVED and app.all_users == [other]
    assert app.current_user is other
    err = await raises(AppError, app.log_in(Credentials.email_password(email, PASSWORD)))
    assert err.status == 401 and "unauthorized" in err.error


async def scenario_link_credentials(make_app: MakeApp, ctx: ScenarioContext) -> None:
    spy = SpyTransport()
    app = make_app(wrap=spy.around)
    anon = await app.log_in(Credentials.anonymous())
    other = await app.log_in(Credentials.anonymous(reuse=False))
    email = ctx.unique_email("link")
    await app.email_password_auth.register_user(email, PASSWORD)
    token, refresh = anon.access_token, anon.refresh_token
    spy.clear()
    await anon.link_credentials(Credentials.email_password(email, PASSWORD))
    method, path = spy.calls()[0]
    assert method == "POST" and path.endswith("/auth/providers/local-userpass/login?link=true")
    assert spy.requests[0].headers["Authorization"] == f"Bearer {token}"
    assert [i.provider_type for i in anon.identities] == ["anon-user", "local-userpass"]
    linked = json.loads(spy.responses[0].body)
    assert linked["user_id"] == anon.id and anon.access_token == linked["access_token"]
    assert anon.refresh_token == refresh, "linking replaces only the access token"
    assert app.current_user is other
    again = await app.log_in(Credentials.email_password(email, PASSWORD))
    assert again is anon
    await anon.log_out()
    assert anon.state is UserState.LOGGED_OUT, "a linked anonymous user can log back in"


async def scenario_api_keys(make_app: MakeApp, ctx: ScenarioContext) -> None:
    app = make_app()
    member, email = await _email_user(app, ctx)
    for key in await member.api_keys.fetch_all():
        await member.api_keys.delete(key.id)
    created = await member.api_keys.create("ci")
    assert isinstance(created.key, str) and created.name == "ci" and created.disabled is False
    listed = await member.api_keys.fetch_all()
    assert [(k.id, k.name, k.key) for k in listed] == [(created.id, "ci", None)]
    await member.api_keys.disable(created.id)
    assert (await member.api_keys.fetch(created.id)).disabled is True
    await raises(AppError, app.log_in(Credentials.api_key(created.key)))
    await member.api_keys.enable(created.id)
    assert (await member.api_keys.fetch(created.id)).disabled is False
    assert await app.log_in(Credentials.api_key(created.key)) is member
    err = await raises(AppError, member.api_keys.delete(created.id))
    assert err.status == 403 and member.state is UserState.LOGGED_IN
    await app.log_in(Credentials.email_password(email, PASSWORD))
    await member.api_keys.delete(created.id)
    assert await member.api_keys.fetch_all() == []
    err = await raises(AppError, member.api_keys.fetch(created.id))
    assert err.code is ErrorCode.API_KEY_NOT_FOUND


async def scenario_listeners(make_app: MakeApp, ctx: ScenarioContext) -> None:
    app = make_app()
    seen: list[tuple[str, Any]] = []
    async_seen: list[str] = []

    async def later(event: Any) -> None:
        await asyncio.sleep(0)
        async_seen.append(event.type)

    def boom(event: Any) -> None:
        raise RuntimeError("a faulty listener")

    for listener in (boom, lambda e: seen.append((e.type, e.user)), later):
        app.add_listener(listener)
    with _SdkLog() as records:
        user = await app.log_in(Credentials.anonymous())
    assert seen == [("userAdded", user), ("currentUserChanged", user)]
    assert any("listener" in r.getMessage() for r in records), "a raising listener is logged"
    user_seen: list[str] = []
    user.add_listener(lambda e: user_seen.append(e.type))
    await user.refresh_access_token()
    await user.log_out()
    assert user_seen == ["tokensRefreshed", "loggedOut"]
    assert seen[2:] == [("userRemoved", user), ("currentUserChanged", None)]
    for _ in range(3):
        await asyncio.sleep(0)
    assert async_seen == ["userAdded", "currentUserChanged", "userRemoved", "currentUserChanged"]
    app.remove_listener(boom)
    app.remove_listener(later)
    await app.log_in(Credentials.anonymous())
    assert len(seen) == 6 and len(async_seen) == 4


class _SdkLog(logging.Handler):
    """Collects the SDK's log records while in a ``with`` block."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> list[logging.LogRecord]:
        logging.getLogger("app.sdk").addHandler(self)
        return self.records

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("app.sdk").removeHandler(self)


async def scenario_custom_data(make_app: MakeApp, ctx: ScenarioContext) -> None:
    app = make_app()
    user = await app.log_in(Credentials.anonymous())
    assert user.custom_data == {}
    events: list[str] = []
    user.add_listener(lambda e: events.append(e.type))
    await user.functions.set_favorite_color("green")
    assert user.custom_data == {}, "custom data is a copy from the access token"
    data = await user.refresh_custom_data()
    assert data.get("favorite_color") == "green" and user.custom_data == data
    assert events == ["tokensRefreshed", "customDataChanged"]


async def scenario_device_id_round_trip(make_app: MakeApp, ctx: ScenarioContext) -> None:
    storage, spy = MemoryStorage(), SpyTransport()
    app = make_app(storage, wrap=spy.around)
    first = await app.log_in(Credentials.anonymous(reuse=False))
    device_id = json.loads(spy.responses[1].body)["device_id"]
    assert storage.get(f"app({ctx.app_id}):deviceId") == device_id
    if first.device_id is not None:
        assert first.device_id == device_id
    spy.clear()
    await app.log_in(Credentials.anonymous(reuse=False))
    sent = json.loads(spy.requests[0].body or "")["options"]["device"]["deviceId"]
    assert sent == {"$oid": device_id}
    assert json.loads(spy.responses[0].body)["device_id"] == device_id, "the device id is reused"


async def scenario_log_out_twice_from_two_apps(make_app: MakeApp, ctx: ScenarioContext) -> None:
    storage = MemoryStorage()
    app = make_app(storage)
    member, _email = await _email_user(app, ctx)
    twin_app = make_app(storage)
    twin = twin_app.current_user
    assert twin is not None and twin.id == member.id and twin is not member
    await member.log_out()
    await twin.log_out()  # The server no longer knows the refresh token: that is fine.
    assert twin.state is UserState.LOGGED_OUT


async def scenario_corrupt_storage_starts_clean(make_app: MakeApp, ctx: ScenarioContext) -> None:
    storage = MemoryStorage()
    storage.set(f"app({ctx.app_id}):userIds", '{"not": "a list"}')
    storage.set(f"app({ctx.app_id}):user(x):refreshToken", "stale")
    storage.set("app(another-app):userIds", "[]")
    spy = SpyTransport()
    app = make_app(storage, wrap=spy.around)
    assert app.all_users == [] and spy.requests == []
    assert storage.get(f"app({ctx.app_id}):user(x):refreshToken") is None
    assert storage.get("app(another-app):userIds") == "[]"
    user = await app.log_in(Credentials.anonymous())
    assert storage.get(f"app({ctx.app_id}):userIds") == json.dumps([user.id])


async def scenario_user_sessions(make_app: MakeApp, ctx: ScenarioContext) -> None:
    laptop = make_app()
    user, email = await _email_user(laptop, ctx, "sessions")
    phone = make_app()
    other = await phone.log_in(Credentials.email_password(email, PASSWORD))
    listed = await user.sessions.list()
    assert len(listed) == 2 and [s.current for s in listed].count(True) == 1
    mine = next(s for s in listed if s.current)
    assert mine.device_id == user.device_id and mine.provider == "local-userpass"
    assert mine.address in ("127.0.0.0/24", "::/48") and mine.last_used_at >= mine.created_at
    theirs = next(s for s in await other.sessions.list() if s.current)
    assert theirs.session_id != mine.session_id
    err = await raises(AppError, user.sessions.revoke("0" * 24))
    assert err.status == 404 and err.code is ErrorCode.NOT_FOUND
    # Sign out everywhere else: the phone's tokens die, the laptop goes on.
    assert await user.sessions.revoke_all_other() == 1
    assert [s.session_id for s in await user.sessions.list()] == [mine.session_id]
    await raises(AppError, other.sessions.list())
    assert state(other) is UserState.LOGGED_OUT
    # Ending this device's own session logs it out here too.
    await user.sessions.revoke(mine.session_id)
    assert state(user) is UserState.LOGGED_OUT


ALL = [
    scenario_first_login_is_three_requests,
    scenario_reload_restores_sessions_without_requests,
    scenario_anonymous_reuse,
    scenario_switch_and_log_out,
    scenario_email_password_lifecycle,
    scenario_email_password_errors,
    scenario_functions,
    scenario_function_credentials,
    scenario_expired_access_token_refreshes_once,
    scenario_concurrent_calls_share_one_refresh,
    scenario_rejected_token_refreshes_and_retries,
    scenario_refresh_failure_logs_user_out,
    scenario_network_errors_never_log_out,
    scenario_delete_user_uses_that_users_token,
    scenario_link_credentials,
    scenario_api_keys,
    scenario_listeners,
    scenario_custom_data,
    scenario_device_id_round_trip,
    scenario_log_out_twice_from_two_apps,
    scenario_corrupt_storage_starts_clean,
    scenario_user_sessions,
]
