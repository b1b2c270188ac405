"""The Admin API's app, users, pending registrations, custom data and API keys over real HTTP,
on both stores: every success as the App Services shapes say, and every refusal (wrong group or
app, unknown user, malformed queries and bodies). Each effect is checked through the client API
too: a disabled user cannot log in, a logged-out user's tokens die, and so on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.sdk import routes
from server.admin_api import paths
from tests.conftest import LiveServer, make_settings, start_server

from .admin_helpers import Admin, make_admin_key
from .helpers import PASSWORD, Api, assert_empty, assert_error, auth, claims, mail_tokens

PAGE_PATHS = (paths.USERS, paths.PENDING_USERS)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("admin-users") / "data"
    server = start_server(make_settings(data_dir, {
        "providers": {"local-userpass": {"confirmation": "email"}}}))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def admin(live: LiveServer, http: httpx.Client) -> Admin:
    key, private = make_admin_key(live.settings, "tests")
    return Admin(http, live.settings, key.public_key, private)


def new_user(admin: Admin, email: str) -> dict:
    resp = admin.post(paths.USERS, {"email": email, "password": PASSWORD})
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def test_the_app_and_wrong_groups_and_apps(live: LiveServer, admin: Admin,
                                           http: httpx.Client) -> None:
    listed = admin.get(paths.APPS)
    assert listed.status_code == 200, listed.text
    [app] = listed.json()
    assert app["_id"] == admin.app and app["group_id"] == admin.group
    assert app["client_app_id"] == live.app_id
    assert {"name", "deployment_model", "location"} <= set(app)
    assert admin.get(paths.APPS, {"product": "atlas"}).json() == []
    assert admin.get(paths.APPS, {"product": "standard"}).json() == [app]
    assert admin.get(paths.APP).json() == app
    other = "0" * 24
    headers = admin.headers
    assert_error(http.get(paths.fill(paths.APPS, group_id=other), headers=headers), 404,
                 "GroupNotFound")
    for group, app_id in ((other, admin.app), (admin.group, other)):
        for template in (paths.APP, paths.USERS, paths.PENDING_USERS, paths.API_KEYS):
            resp = http.get(paths.fill(template, group_id=group, app_object_id=app_id),
                            headers=headers)
            assert_error(resp, 404, "GroupNotFound" if group == other else "AppNotFound")
    # Without a token, nothing is told about groups or apps.
    assert_error(http.get(paths.fill(paths.USERS, group_id=other, app_object_id=other)), 401,
                 "MissingAuthReq")


def test_create_get_disable_enable_logout_delete(admin: Admin, http: httpx.Client) -> None:
    api = Api(http)
    made = new_user(admin, "ann@example.com")
    assert set(made) == {"_id", "identities", "type", "disabled", "data", "creation_date",
                         "last_authentication_date"}
    assert made["data"]["email"] == "ann@example.com" and made["disabled"] is False
    [identity] = made["identities"]
    assert identity["provider_type"] == "local-userpass"
    assert identity["provider_data"] == {"email": "ann@example.com"}
    assert made["last_authentication_date"] == 0 and made["creation_date"] > 1_600_000_000
    uid = made["_id"]
    # Confirmed at once, though this app confirms by email: it logs in.
    first = api.log_in_ok("ann@example.com")
    assert first["user_id"] == uid
    second = api.log_in_ok("ann@example.com")
    got = admin.get(paths.USER, user_id=uid).json()
    assert got["last_authentication_date"] >= got["creation_date"]
    devices = admin.get(paths.USER_DEVICES, user_id=uid).json()
    assert {d["_id"] for d in devices} == {first["device_id"], second["device_id"]}
    assert all(d["sessions"] == 1 for d in devices)

    assert_error(admin.post(paths.USERS, {"email": "ANN@example.com", "password": PASSWORD}),
                 409, "AccountNameInUse")
    assert_error(admin.post(paths.USERS, {"email": "bob@example.com"}), 400,
                 "MissingParameter")
    assert_error(admin.post(paths.USERS, {"email": "no-at-sign", "password": PASSWORD}), 400,
                 "InvalidParameter")
    assert_error(admin.post(paths.USERS, {"email": "bob@example.com", "password": "short"}),
                 400, "BadRequest")

    assert_empty(admin.put(paths.USER_LOGOUT, user_id=uid))
    for session in (first, second):
        assert_error(api.profile(session["access_token"]), 401, "InvalidSession")
        assert_error(api.refresh(session["refresh_token"]), 401, "InvalidSession")
    assert admin.get(paths.USER_DEVICES, user_id=uid).json() == []

    third = api.log_in_ok("ann@example.com")
    assert_empty(admin.put(paths.USER_DISABLE, user_id=uid))
    assert_error(api.refresh(third["refresh_token"]), 401, "InvalidSession")
    assert_error(api.log_in("ann@example.com"), 401, "UserDisabled")
    assert admin.get(paths.USER, user_id=uid).json()["disabled"] is True
    assert_empty(admin.put(paths.USER_ENABLE, user_id=uid))
    api.log_in_ok("ann@example.com")

    assert_empty(admin.delete(paths.USER, user_id=uid))
    assert_error(api.log_in("ann@example.com"), 401, "InvalidPassword")
    # The address is free again, as after the client API's own deletion.
    assert new_user(admin, "ann@example.com")["_id"] != uid
    for method, template in (("GET", paths.USER), ("DELETE", paths.USER),
                             ("PUT", paths.USER_ENABLE), ("PUT", paths.USER_DISABLE),
                             ("PUT", paths.USER_LOGOUT), ("GET", paths.USER_DEVICES),
                             ("GET", paths.USER_CUSTOM_DATA), ("GET", paths.USER_API_KEYS)):
        resp = http.request(method, admin.path(template, user_id=uid), headers=admin.headers)
        assert_error(resp, 404, "UserNotFound")


def test_pages_filters_and_search(admin: Admin, http: httpx.Client) -> None:
    api = Api(http)
    anons = [api.anon_ok()["user_id"] for _ in range(3)]
    people = [new_user(admin, f"page{i}@Example.com")["_id"] for i in range(3)]
    admin.put(paths.USER_DISABLE, user_id=people[0])
    every = admin.get(paths.USERS, {"limit": "1000"}).json()
    ids = [u["_id"] for u in every]
    assert ids == sorted(ids) and set(anons + people) <= set(ids)
    # Paging by the last id gives every user once, in order.
    paged, after = [], ""
    while True:
        page = admin.get(paths.USERS, {"limit": "2", "after": after}).json()
        if not page:
            break
        assert len(page) <= 2
        paged += [u["_id"] for u in page]
        after = page[-1]["_id"]
    assert paged == ids
    anon_only = admin.get(paths.USERS, {"provider_types": "anon-user", "limit": "1000"}).json()
    assert {u["_id"] for u in anon_only} >= set(anons)
    assert all(u["identities"][0]["provider_type"] == "anon-user" for u in anon_only)
    both = admin.get(paths.USERS, {"provider_types": "anon-user,local-userpass",
                                   "limit": "1000"}).json()
    assert {u["_id"] for u in both} >= set(anons + people)
    disabled = admin.get(paths.USERS, {"status": "disabled"}).json()
    assert people[0] in {u["_id"] for u in disabled} and all(u["disabled"] for u in disabled)
    enabled = admin.get(paths.USERS, {"status": "enabled", "limit": "1000"}).json()
    assert people[0] not in {u["_id"] for u in enabled}
    for params in ({"status": "asleep"}, {"limit": "0"}, {"limit": "1001"}, {"limit": "x"},
                   {"provider_types": "a,,b"}):
        assert_error(admin.get(paths.USERS, params), 400, "InvalidParameter")

    found = admin.get(paths.USER_SEARCH, {"q": "PAGE"}).json()
    assert [u["data"]["email"] for u in found] == [f"page{i}@Example.com" for i in range(3)]
    assert [u["_id"] for u in admin.get(paths.USER_SEARCH, {"q": "page1@"}).json()] == \
        [people[1]]
    assert [u["_id"] for u in admin.get(paths.USER_SEARCH, {"q": anons[0]}).json()] == \
        [anons[0]]
    assert admin.get(paths.USER_SEARCH, {"q": "nobody"}).json() == []
    assert len(admin.get(paths.USER_SEARCH, {"q": "page", "limit": "2"}).json()) == 2
    assert_error(admin.get(paths.USER_SEARCH), 400, "InvalidParameter")


def test_pending_registrations(live: LiveServer, admin: Admin, http: httpx.Client) -> None:
    api = Api(http)
    for email in ("pend1@example.com", "pend2@example.com", "pend3@example.com"):
        assert api.register(email).status_code == 201
    pending = admin.get(paths.PENDING_USERS).json()
    emails = [p["login_ids"][0]["id"] for p in pending]
    assert {"pend1@example.com", "pend2@example.com", "pend3@example.com"} <= set(emails)
    assert all(p["login_ids"][0]["id_type"] == "email" and p["user_id"] == ""
               for p in pending)
    first = admin.get(paths.PENDING_USERS, {"limit": "1"}).json()
    rest = admin.get(paths.PENDING_USERS, {"after": first[0]["_id"]}).json()
    assert first + rest == pending

    assert_error(api.log_in("pend1@example.com"), 401, "AuthError", "confirmation required")
    assert_empty(admin.post(paths.BY_EMAIL_CONFIRM, email="Pend1@Example.com"))
    api.log_in_ok("pend1@example.com")
    assert_error(admin.post(paths.BY_EMAIL_CONFIRM, email="pend1@example.com"), 400,
                 "UserAlreadyConfirmed")

    mails = len(live.outbox())
    resp = admin.post(paths.BY_EMAIL_RUN_CONFIRM, email="pend2@example.com")
    assert_empty(resp, 202)
    outbox = live.outbox()
    assert len(outbox) == mails + 1 and outbox[-1]["to"] == "pend2@example.com"
    assert api.action("confirm", mail_tokens(outbox[-1]["body"])).status_code == 204
    api.log_in_ok("pend2@example.com")

    assert_empty(admin.delete(paths.BY_EMAIL, email="pend3@example.com"))
    assert_error(api.log_in("pend3@example.com"), 401, "InvalidPassword")
    assert "pend3@example.com" not in str(admin.get(paths.PENDING_USERS).json())
    # A registration in use goes with its user, not here.
    assert_error(admin.delete(paths.BY_EMAIL, email="pend1@example.com"), 404, "UserNotFound")
    for method, template in (("POST", paths.BY_EMAIL_CONFIRM), ("POST",
                             paths.BY_EMAIL_RUN_CONFIRM), ("DELETE", paths.BY_EMAIL)):
        resp = http.request(method, admin.path(template, email="nobody@example.com"),
                            headers=admin.headers)
        assert_error(resp, 404, "UserNotFound")
    assert_error(admin.get(paths.PENDING_USERS, {"limit": "-1"}), 400, "InvalidParameter")


def test_pending_registrations_of_addresses_with_a_slash(admin: Admin, http: httpx.Client
                                                          ) -> None:
    # Review finding K: "a/b@example.com" is a valid address, sent as a%2Fb@...: it was a 404.
    api = Api(http)
    for email in ("s/1@example.com", "s/2@example.com"):
        assert api.register(email).status_code == 201
    assert_empty(admin.post(paths.BY_EMAIL_CONFIRM, email="s/1@example.com"))
    api.log_in_ok("s/1@example.com")
    assert_empty(admin.post(paths.BY_EMAIL_RUN_CONFIRM, email="s/2@example.com"), 202)
    assert_empty(admin.delete(paths.BY_EMAIL, email="s/2@example.com"))
    assert_error(api.log_in("s/2@example.com"), 401, "InvalidPassword")


def test_custom_data(admin: Admin, http: httpx.Client) -> None:
    api = Api(http)
    uid = new_user(admin, "carol@example.com")["_id"]
    session = api.log_in_ok("carol@example.com")
    assert admin.get(paths.USER_CUSTOM_DATA, user_id=uid).json() == {}
    assert_empty(admin.put(paths.USER_CUSTOM_DATA, {"plan": "pro", "seats": 5}, user_id=uid))
    data = admin.get(paths.USER_CUSTOM_DATA, user_id=uid).json()
    assert data["plan"] == "pro" and data["seats"] == 5
    fresh = api.refresh(session["refresh_token"]).json()["access_token"]
    assert claims(fresh)["user_data"]["plan"] == "pro"
    assert_error(admin.put(paths.USER_CUSTOM_DATA, [1, 2], user_id=uid), 400,
                 "InvalidParameter")
    assert_error(admin.put(paths.USER_CUSTOM_DATA, {"a": 1}, user_id="0" * 24), 404,
                 "UserNotFound")


def test_a_users_api_keys(admin: Admin, http: httpx.Client) -> None:
    api = Api(http)
    uid = new_user(admin, "dan@example.com")["_id"]
    session = api.log_in_ok("dan@example.com")
    made = http.post(routes.api_keys(), json={"name": "laptop"},
                     headers=auth(session["refresh_token"])).json()
    key_id = made["_id"]
    assert admin.get(paths.USER_API_KEYS, user_id=uid).json() == [
        {"_id": key_id, "name": "laptop", "disabled": False}]
    assert admin.get(paths.USER_API_KEY, user_id=uid, key_id=key_id).json()["name"] == "laptop"
    by_key = api.login(routes.API_KEY, {"key": made["key"]}).json()
    assert_empty(admin.put(paths.USER_API_KEY_DISABLE, user_id=uid, key_id=key_id))
    assert_error(api.refresh(by_key["refresh_token"]), 401, "InvalidSession")
    assert_error(api.login(routes.API_KEY, {"key": made["key"]}), 401, "AuthError")
    assert_empty(admin.put(paths.USER_API_KEY_ENABLE, user_id=uid, key_id=key_id))
    assert api.login(routes.API_KEY, {"key": made["key"]}).status_code == 200
    other = new_user(admin, "erin@example.com")["_id"]
    assert_error(admin.get(paths.USER_API_KEY, user_id=other, key_id=key_id), 404,
                 "APIKeyNotFound")
    assert_error(admin.delete(paths.USER_API_KEY, user_id=other, key_id=key_id), 404,
                 "APIKeyNotFound")
    assert_empty(admin.delete(paths.USER_API_KEY, user_id=uid, key_id=key_id))
    assert admin.get(paths.USER_API_KEYS, user_id=uid).json() == []
    assert_error(api.login(routes.API_KEY, {"key": made["key"]}), 401, "AuthError")


def test_the_apps_api_keys(admin: Admin, http: httpx.Client) -> None:
    api = Api(http)
    made = admin.post(paths.API_KEYS, {"name": "nightly"})
    assert made.status_code == 201, made.text
    key = made.json()
    assert set(key) == {"_id", "name", "disabled", "key"}
    assert_error(admin.post(paths.API_KEYS, {"name": "nightly"}), 409, "APIKeyAlreadyExists")
    assert_error(admin.post(paths.API_KEYS, {}), 400, "MissingParameter")
    assert {"_id": key["_id"], "name": "nightly", "disabled": False} in \
        admin.get(paths.API_KEYS).json()
    session = api.login(routes.API_KEY, {"key": key["key"]}).json()
    user = admin.get(paths.USER, user_id=session["user_id"]).json()
    assert user["type"] == "server" and user["data"]["name"] == "nightly"
    assert_empty(admin.put(paths.API_KEY_DISABLE, key_id=key["_id"]))
    assert admin.get(paths.API_KEY, key_id=key["_id"]).json()["disabled"] is True
    assert_error(api.refresh(session["refresh_token"]), 401, "InvalidSession")
    assert_empty(admin.put(paths.API_KEY_ENABLE, key_id=key["_id"]))
    assert_empty(admin.delete(paths.API_KEY, key_id=key["_id"]))
    assert_error(admin.get(paths.API_KEY, key_id=key["_id"]), 404, "APIKeyNotFound")
    assert_error(admin.get(paths.USER, user_id=session["user_id"]), 404, "UserNotFound")
    # A user's own key is not one of the app's.
    uid = new_user(admin, "fay@example.com")["_id"]
    own = http.post(routes.api_keys(), json={"name": "mine"}, headers=auth(
        api.log_in_ok("fay@example.com")["refresh_token"])).json()
    assert_error(admin.get(paths.API_KEY, key_id=own["_id"]), 404, "APIKeyNotFound")
    assert_error(admin.delete(paths.API_KEY, key_id=own["_id"]), 404, "APIKeyNotFound")
    assert admin.get(paths.USER_API_KEYS, user_id=uid).json()[0]["_id"] == own["_id"]
