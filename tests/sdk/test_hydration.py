"""Tier (a): an App rebuilt from storage, with no request at all, and corrupt storage."""

from __future__ import annotations

import json
import logging

import pytest

from app.sdk import App, MemoryStorage, Request, Response, User, UserState
from app.sdk.user import Identity, UserProfile

from .helpers import foreign_jwt

APP = "demo"


class NoNetwork:
    """Fails the test if anything is sent: hydration must be request-free."""

    async def send(self, request: Request) -> Response:
        raise AssertionError(f"Unexpected request: {request.method} {request.url}")


def stored_user(items: dict[str, str], uid: str, provider: str, *, logged_in: bool) -> None:
    prefix = f"app({APP}):user({uid}):"
    items[prefix + "providerType"] = provider
    items[prefix + "profile"] = json.dumps(
        {
            "type": "normal",
            "identities": [{"id": f"{uid}-ident", "providerType": provider}],
            "data": {"email": f"{uid}@example.com", "pictureUrl": "http://p", "firstName": "Ada"},
        }
    )
    if logged_in:
        items[prefix + "accessToken"] = foreign_jwt({"sub": uid, "user_data": {"n": 1}})
        items[prefix + "refreshToken"] = f"refresh-{uid}"


def make_storage() -> MemoryStorage:
    items: dict[str, str] = {f"app({APP}):userIds": json.dumps(["u2", "u1", "u3"])}
    stored_user(items, "u1", "local-userpass", logged_in=True)
    stored_user(items, "u2", "local-userpass", logged_in=False)
    stored_user(items, "u3", "anon-user", logged_in=True)
    items[f"app({APP}):deviceId"] = "ab" * 12
    return MemoryStorage(items)


def test_users_states_and_current_user_are_restored() -> None:
    app = App(APP, base_url="http://x", transport=NoNetwork(), storage=make_storage())
    assert [u.id for u in app.all_users] == ["u2", "u1", "u3"]
    assert [u.state for u in app.all_users] == [
        UserState.LOGGED_OUT,
        UserState.LOGGED_IN,
        UserState.LOGGED_IN,
    ]
    current = app.current_user
    assert current is not None and current.id == "u1"
    assert current.refresh_token == "refresh-u1" and current.custom_data == {"n": 1}
    assert current.profile.email == "u1@example.com"
    assert current.profile.picture_url == "http://p" and current.profile.first_name == "Ada"
    assert current.identities == (Identity("u1-ident", "local-userpass"),)


def test_switching_and_misuse_need_no_requests() -> None:
    app = App(APP, base_url="http://x", transport=NoNetwork(), storage=make_storage())
    u2, u1, u3 = app.all_users
    app.switch_user(u3)
    assert app.current_user is u3 and app.all_users == [u3, u2, u1]
    with pytest.raises(ValueError, match="logged out"):
        app.switch_user(u2)
    with pytest.raises(TypeError, match="Expected a User"):
        app.switch_user("u1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="has no access token"):
        _ = u2.custom_data
    stranger = App(APP, base_url="http://x", transport=NoNetwork(), storage=make_storage())
    with pytest.raises(ValueError, match="never logged into this app"):
        app.switch_user(stranger.all_users[0])


def test_the_new_order_is_written_through() -> None:
    storage = make_storage()
    app = App(APP, base_url="http://x", transport=NoNetwork(), storage=storage)
    app.switch_user(app.all_users[2])
    again = App(APP, base_url="http://x", transport=NoNetwork(), storage=storage)
    assert [u.id for u in again.all_users] == ["u3", "u2", "u1"]
    assert again.current_user is not None and again.current_user.id == "u3"


def test_an_empty_storage_gives_an_empty_app() -> None:
    storage = MemoryStorage()
    app = App(APP, base_url="http://x", transport=NoNetwork(), storage=storage)
    assert app.current_user is None and app.all_users == [] and storage.items == {}


def corrupt(key: str, value: str | None) -> MemoryStorage:
    storage = make_storage()
    if value is None:
        storage.remove(f"app({APP}):{key}")
    else:
        storage.set(f"app({APP}):{key}", value)
    storage.set("app(other):userIds", '["keep"]')
    storage.set("unrelated", "keep")
    return storage


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("userIds", "{not json"),
        ("userIds", '{"u1": true}'),
        ("userIds", "[1]"),
        ("deviceId", "not-hex"),
        ("user(u1):providerType", None),
        ("user(u1):profile", "[]"),
        ("user(u1):profile", "{broken"),
        ("user(u1):profile", '{"type": "normal", "identities": [{"id": 1}], "data": {}}'),
        ("user(u1):profile", '{"type": "normal", "identities": [], "data": []}'),
        ("user(u1):profile", '{"identities": [], "data": {}}'),
    ],
)
def test_corrupt_storage_is_cleared_with_a_warning(
    key: str, value: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    storage = corrupt(key, value)
    with caplog.at_level(logging.WARNING, logger="app.sdk"):
        app = App(APP, base_url="http://x", transport=NoNetwork(), storage=storage)
    assert app.all_users == [] and app.current_user is None
    assert storage.items == {"app(other):userIds": '["keep"]', "unrelated": "keep"}
    assert "Cleared the unreadable stored sessions of app 'demo'" in caplog.text


def test_profiles_are_stored_in_realm_web_form() -> None:
    profile = UserProfile.from_json(
        {
            "type": "normal",
            "identities": [{"id": "i", "provider_type": "local-userpass", "provider_id": "p"}],
            "data": {"picture": "http://p", "first_name": "Ada", "age": {"$numberInt": "36"}},
        }
    )
    assert profile.picture_url == "http://p" and profile.data["age"] == 36
    stored = profile.to_storage()
    assert stored == {
        "type": "normal",
        "identities": [{"id": "i", "providerType": "local-userpass"}],
        "data": {"pictureUrl": "http://p", "firstName": "Ada", "age": 36},
    }
    assert UserProfile.from_storage(json.loads(json.dumps(stored))) == profile


def test_users_are_only_made_by_the_app() -> None:
    app = App(APP, base_url="http://x", transport=NoNetwork(), storage=make_storage())
    with pytest.raises(ValueError, match="no provider type"):
        User(app, "unknown")
    assert repr(app.all_users[1]) == "<User u1 local-userpass LoggedIn>"
