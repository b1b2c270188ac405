"""The calls the ``appservices`` CLI (realm-cli, ``internal/cloud/realm``) makes for ``users
list``, ``create``, ``disable``, ``enable``, ``revoke`` and ``delete``, in its order, against a
live server over real HTTP, on both stores.

What the CLI does (read from its sources, written here as our own client): it logs in once
(``POST /auth/providers/mongodb-cloud/login`` with ``{username, apiKey}``) and keeps the session;
every command first resolves the app: ``GET /auth/profile`` for the group ids of the roles, then
for each group ``GET /groups/{group}/apps`` and ``GET /groups/{group}/apps?product=atlas``, and
picks the app whose ``client_app_id`` starts with the one asked for. Commands on chosen users
list them first (``GET .../users`` with ``status`` and ``provider_types``), then act on each
(``PUT .../disable``, ``/enable``, ``/logout``, ``DELETE .../users/{id}``, each expecting 204);
``create`` posts ``{email, password}`` and expects 201. Every request carries
``X-BAAS-Request-Origin: mongodb-baas-cli``; a 401 ``InvalidSession`` makes it refresh once with
``POST /auth/session`` (refresh token as bearer) and repeat the request.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.admin_api import paths
from tests.conftest import LiveServer, make_settings, start_server

from .admin_helpers import make_admin_key
from .helpers import PASSWORD, Api, assert_error

ORIGIN = {"X-BAAS-Request-Origin": "mongodb-baas-cli"}


class CliClient:
    """The CLI's HTTP behaviour: one session, the access token on every call, refresh once."""

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.session: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []

    def do(self, method: str, path: str, *, json: Any = None, params: dict[str, str] | None
           = None, refresh: bool = True) -> httpx.Response:
        headers = dict(ORIGIN)
        if self.session.get("access_token"):
            headers["Authorization"] = f"Bearer {self.session['access_token']}"
        self.calls.append((method, path + ("?" + "&".join(f"{k}={v}" for k, v in
                                                          sorted(params.items()))
                                           if params else "")))
        resp = self.http.request(method, path, json=json, params=params, headers=headers)
        if resp.status_code == 401 and refresh and resp.json().get("error_code") == \
                "InvalidSession":
            self.calls.append(("POST", paths.SESSION))
            fresh = self.http.post(paths.SESSION, headers={
                **ORIGIN, "Authorization": f"Bearer {self.session['refresh_token']}"})
            assert fresh.status_code == 201, fresh.text
            self.session["access_token"] = fresh.json()["access_token"]
            return self.do(method, path, json=json, params=params, refresh=False)
        return resp

    def login(self, public: str, private: str) -> None:
        resp = self.do("POST", paths.LOGIN, json={"username": public, "apiKey": private})
        assert resp.status_code == 200, resp.text
        self.session = resp.json()

    def resolve_app(self, client_app_id: str) -> dict[str, Any]:
        profile = self.do("GET", paths.PROFILE)
        assert profile.status_code == 200, profile.text
        groups = list(dict.fromkeys(r["group_id"] for r in profile.json()["roles"]
                                    if r["group_id"]))
        found = []
        for group in groups:
            for product in (None, "atlas"):
                resp = self.do("GET", paths.fill(paths.APPS, group_id=group),
                               params={"product": product} if product else None)
                assert resp.status_code == 200, resp.text
                found += resp.json()
        [app] = [a for a in found if a["client_app_id"].startswith(client_app_id.lower())]
        return app

    def find_users(self, app: dict[str, Any], state: str = "",
                   providers: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        params = {}
        if state:
            params["status"] = state
        if providers:
            params["provider_types"] = ",".join(providers)
        resp = self.do("GET", self.users_path(app), params=params or None)
        assert resp.status_code == 200, resp.text
        users: list[dict[str, Any]] = resp.json()
        return users

    @staticmethod
    def users_path(app: dict[str, Any], *rest: str) -> str:
        base = paths.fill(paths.USERS, group_id=app["group_id"], app_object_id=app["_id"])
        return "/".join((base, *rest))


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("admin-cli") / "data"
    server = start_server(make_settings(data_dir))
    yield server
    server.stop()


def test_users_list_create_disable_enable_revoke_delete_as_the_cli_does(live: LiveServer) -> None:
    key, private = make_admin_key(live.settings, "appservices")
    with httpx.Client(base_url=live.base_url, timeout=30) as http:
        api = Api(http)
        cli = CliClient(http)
        cli.login(key.public_key, private)
        anon = api.anon_ok()

        # appservices users list --app latchkey-demo
        app = cli.resolve_app(live.app_id)
        listed = cli.find_users(app)
        assert [u["_id"] for u in listed] == [anon["user_id"]]
        assert listed[0]["identities"][0]["provider_type"] == "anon-user"

        # appservices users create --type email --email ... --password ...
        app = cli.resolve_app(live.app_id)
        created = cli.do("POST", cli.users_path(app),
                         json={"email": "cli@example.com", "password": PASSWORD})
        assert created.status_code == 201, created.text
        user = created.json()
        assert user["data"]["email"] == "cli@example.com" and not user["disabled"]
        session = api.log_in_ok("cli@example.com")

        # appservices users disable --user <id>: it looks the users up, then disables.
        app = cli.resolve_app(live.app_id)
        chosen = cli.find_users(app, providers=("local-userpass",))
        assert [u["_id"] for u in chosen] == [user["_id"]]
        assert cli.do("PUT", cli.users_path(app, user["_id"], "disable")).status_code == 204
        assert_error(api.log_in("cli@example.com"), 401, "UserDisabled")
        assert [u["_id"] for u in cli.find_users(app, state="disabled")] == [user["_id"]]

        # appservices users enable
        app = cli.resolve_app(live.app_id)
        cli.find_users(app, state="disabled")
        assert cli.do("PUT", cli.users_path(app, user["_id"], "enable")).status_code == 204
        session = api.log_in_ok("cli@example.com")

        # appservices users revoke, with an access token that has gone stale meanwhile: the
        # CLI refreshes once and repeats the call.
        cli.session["access_token"] = session["access_token"]  # a client token: refused
        app = cli.resolve_app(live.app_id)
        cli.find_users(app, state="enabled")
        assert cli.do("PUT", cli.users_path(app, user["_id"], "logout")).status_code == 204
        assert_error(api.refresh(session["refresh_token"]), 401, "InvalidSession")

        # appservices users delete
        app = cli.resolve_app(live.app_id)
        cli.find_users(app)
        assert cli.do("DELETE", cli.users_path(app, user["_id"])).status_code == 204
        assert [u["_id"] for u in cli.find_users(app)] == [anon["user_id"]]

    group, app_id = app["group_id"], app["_id"]
    users = f"/api/admin/v3.0/groups/{group}/apps/{app_id}/users"
    resolve = [("GET", paths.PROFILE), ("GET", f"/api/admin/v3.0/groups/{group}/apps"),
               ("GET", f"/api/admin/v3.0/groups/{group}/apps?product=atlas")]
    uid = user["_id"]
    assert cli.calls == [
        ("POST", paths.LOGIN),
        *resolve, ("GET", users),
        *resolve, ("POST", users),
        *resolve, ("GET", f"{users}?provider_types=local-userpass"),
        ("PUT", f"{users}/{uid}/disable"), ("GET", f"{users}?status=disabled"),
        *resolve, ("GET", f"{users}?status=disabled"), ("PUT", f"{users}/{uid}/enable"),
        ("GET", paths.PROFILE), ("POST", paths.SESSION), ("GET", paths.PROFILE),
        *resolve[1:], ("GET", f"{users}?status=enabled"), ("PUT", f"{users}/{uid}/logout"),
        *resolve, ("GET", users), ("DELETE", f"{users}/{uid}"), ("GET", users),
    ]
