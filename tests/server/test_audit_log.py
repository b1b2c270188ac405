"""The audit log and users' own sessions through real HTTP (uvicorn on loopback), on the test
store (``LATCHKEY_TEST_STORE``): every security event is recorded with who, how and from where,
and no password, token or key ever is. One server for the module."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from app.sdk import routes
from server.ops_settings import AuditSettings
from server.services.audit import AuditWriter, mask_address
from server.store import Store, open_store_for
from server.store.base import AuditEvent, AuditQuery
from tests.conftest import LiveServer, make_settings, start_server

from .helpers import PASSWORD, Api, auth, claims

WRONG = "wrong-password-9"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(make_settings(tmp_path_factory.mktemp("audit")))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(live: LiveServer) -> Iterator[Api]:
    with httpx.Client(base_url=live.base_url, timeout=30) as http:
        yield Api(http)


ALL = AuditQuery(limit=1000)


def events(live: LiveServer, query: AuditQuery = ALL) -> list[AuditEvent]:
    """The server's audit events, read by a store of our own on its database."""
    async def read() -> list[AuditEvent]:
        store = open_store_for(live.settings.database_url, live.settings.data_dir)
        await store.open()
        try:
            return await store.list_audit_events(query)
        finally:
            await store.close()

    return asyncio.run(read())


def wait_for(live: LiveServer, kind: str, user_id: str | None = None, *,
             count: int = 1) -> list[AuditEvent]:
    """The events of a kind (of a user), once ``count`` of them are written (they are queued)."""
    deadline = time.monotonic() + 10
    while True:
        found = [e for e in events(live) if e.kind == kind
                 and (user_id is None or e.user_id == user_id)]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def test_logins_refusals_and_sessions_are_recorded(live: LiveServer, api: Api) -> None:
    email = "audited@example.com"
    assert api.register(email).status_code == 201
    assert api.log_in(email, WRONG).status_code == 401
    session = api.log_in_ok(email)
    uid = session["user_id"]
    assert api.refresh(session["refresh_token"]).status_code == 201
    assert api.refresh("not-a-token").status_code == 401

    (register,) = wait_for(live, "register")
    assert register.provider == "local-userpass" and register.detail == {"email": email}
    (refused,) = wait_for(live, "login_error")
    assert (refused.reason, refused.provider, refused.user_id, refused.address) == \
        ("InvalidPassword", "local-userpass", None, "127.0.0.1")
    assert refused.detail == {"email": email}
    (login,) = wait_for(live, "login", uid)
    assert (login.provider, login.device_id, login.address) == \
        ("local-userpass", session["device_id"], "127.0.0.1")
    assert login.detail["session_id"] == claims(session["refresh_token"])["baas_id"]
    assert [e.user_id for e in wait_for(live, "user_created", uid)] == [uid]
    assert wait_for(live, "refresh_error")[0].reason == "InvalidSession"

    assert api.log_out(session["refresh_token"]).status_code == 204
    assert wait_for(live, "logout", uid)[0].device_id == session["device_id"]


def test_links_keys_revocations_and_deletion_are_recorded(live: LiveServer, api: Api) -> None:
    anon = api.anon_ok()
    uid = anon["user_id"]
    email = "linked@example.com"
    assert api.register(email).status_code == 201
    linked = api.log_in(email, link_token=anon["access_token"])
    assert linked.status_code == 200, linked.text
    assert wait_for(live, "link", uid)[0].provider == "local-userpass"
    again = api.log_in(email, link_token=anon["access_token"])
    assert again.status_code == 409
    assert wait_for(live, "link_error", uid)[0].reason == "IdentityAlreadyLinked"

    refresh = api.log_in_ok(email)["refresh_token"]
    made = api.http.post(routes.api_keys(), json={"name": "ci"}, headers=auth(refresh)).json()
    key_id = made["_id"]
    for verb in ("disable", "enable"):
        path = routes.api_key_disable(key_id) if verb == "disable" else routes.api_key_enable(
            key_id)
        assert api.http.put(path, headers=auth(refresh)).status_code == 204
    assert api.http.delete(routes.api_key(key_id), headers=auth(refresh)).status_code == 204
    for kind in ("api_key_created", "api_key_disabled", "api_key_enabled", "api_key_deleted"):
        (event,) = wait_for(live, kind, uid)
        assert event.detail == {"api_key_id": key_id, "key_name": "ci"}, kind

    other = api.log_in_ok(email)
    assert api.http.delete(routes.sessions(), headers=auth(other["access_token"])).json() == \
        {"revoked": 2}
    assert wait_for(live, "other_sessions_revoked", uid)[0].detail == {"count": 2}
    assert api.delete_user(other["access_token"]).status_code == 204
    assert wait_for(live, "user_deleted", uid)

    # Never a password, token or key: not in any field of any event.
    dump = json.dumps([vars_of(e) for e in events(live)])
    for secret in (PASSWORD, WRONG, anon["access_token"], anon["refresh_token"], refresh,
                   other["access_token"], other["refresh_token"], made["key"]):
        assert secret not in dump


def vars_of(event: AuditEvent) -> dict[str, Any]:
    return {name: getattr(event, name) for name in event.__slots__}


def test_users_list_and_end_their_own_sessions(live: LiveServer, api: Api) -> None:
    email = "sessions@example.com"
    first = api.user(email)
    second = api.log_in_ok(email)
    stranger = api.user("stranger@example.com")
    listed = api.http.get(routes.sessions(), headers=auth(first["access_token"]))
    assert listed.status_code == 200
    body = listed.json()
    assert [s["current"] for s in body] == [False, True]  # Newest first.
    mine = body[1]
    assert mine["session_id"] == claims(first["access_token"])["baas_id"]
    assert (mine["device_id"], mine["provider"], mine["address"]) == \
        (first["device_id"], "local-userpass", "127.0.0.0/24")
    assert mine["created_at"] <= mine["last_used_at"] < mine["expires_at"]
    assert mine["api_key_id"] is None
    # A refresh moves "last used" (at most once a minute per process).
    assert api.refresh(first["refresh_token"]).status_code == 201

    # Somebody else's session answers like an unknown one.
    theirs = claims(stranger["access_token"])["baas_id"]
    resp = api.http.delete(routes.user_session(theirs), headers=auth(first["access_token"]))
    assert resp.status_code == 404 and resp.json()["error_code"] == "NotFound"
    assert api.profile(stranger["access_token"]).status_code == 200

    other_id = body[0]["session_id"]
    resp = api.http.delete(routes.user_session(other_id), headers=auth(first["access_token"]))
    assert resp.status_code == 204
    assert api.refresh(second["refresh_token"]).status_code == 401
    assert api.profile(second["access_token"]).status_code == 401
    assert [s["session_id"] for s in api.http.get(
        routes.sessions(), headers=auth(first["access_token"])).json()] == [mine["session_id"]]
    assert api.http.get(routes.sessions()).status_code == 401


def test_client_addresses_are_masked_for_the_session_list() -> None:
    assert mask_address("192.0.2.77") == "192.0.2.0/24"
    assert mask_address("::ffff:198.51.100.9") == "198.51.100.0/24"
    assert mask_address("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert mask_address("testclient") == "" and mask_address(None) == ""


def test_old_events_are_pruned_by_the_retention(live: LiveServer) -> None:
    async def run() -> tuple[int, list[str]]:
        store: Store = open_store_for(live.settings.database_url, live.settings.data_dir)
        await store.open()
        try:
            writer = AuditWriter(store, AuditSettings(retention_days=30))
            old = time.time() - 31 * 86400
            writer.add(AuditEvent(f"{int(old * 1e6):016x}00000000", old, "login", "old-user"))
            await writer.flush()
            before = [e.user_id for e in await store.list_audit_events(AuditQuery(
                user_id="old-user"))]
            return await writer.prune(), before
        finally:
            await store.close()

    gone, before = asyncio.run(run())
    assert before == ["old-user"] and gone == 1
    assert events(live, AuditQuery(user_id="old-user")) == []


def test_admins_read_the_log_and_their_actions_are_in_it(live: LiveServer, api: Api) -> None:
    from server.admin_api import paths

    from .admin_helpers import Admin, make_admin_key

    key, private = make_admin_key(live.settings, "auditor")
    admin = Admin(api.http, live.settings, key.public_key, private)
    assert api.http.post(paths.LOGIN, json={"username": key.public_key,
                                            "apiKey": "wrong"}).status_code == 401
    target = api.user("target@example.com")
    uid = target["user_id"]
    assert admin.put(paths.USER_DISABLE, user_id=uid).status_code == 204
    assert admin.put(paths.USER_ENABLE, user_id=uid).status_code == 204
    assert admin.put(paths.USER_LOGOUT, user_id=uid).status_code == 204
    wait_for(live, "admin_user_logged_out", uid)

    page = admin.get(paths.AUDIT_LOG, {"user_id": uid, "limit": "2"})
    assert page.status_code == 200, page.text
    first = page.json()
    assert [e["kind"] for e in first] == ["admin_user_logged_out", "admin_user_enabled"]
    # Disabling ended the user's session already.
    assert first[0]["actor"] == key.id and first[0]["detail"] == {
        "admin_name": "auditor", "count": 0}
    rest = admin.get(paths.AUDIT_LOG, {"user_id": uid, "before": first[-1]["_id"]}).json()
    assert {e["kind"] for e in rest} >= {"admin_user_disabled", "login", "user_created"}
    logins = admin.get(paths.AUDIT_LOG, {"kind": "admin_login,admin_login_error"}).json()
    assert {e["kind"] for e in logins} == {"admin_login", "admin_login_error"}
    assert private not in json.dumps(logins) and key.public_key not in json.dumps(
        [e for e in logins if e["kind"] == "admin_login_error"])
    now = time.time()
    assert admin.get(paths.AUDIT_LOG, {"user_id": uid, "since": str(now + 60)}).json() == []
    assert admin.get(paths.AUDIT_LOG, {"since": "yesterday"}).status_code == 400

    stats = admin.get(paths.AUDIT_STATS, {"days": "2", "hours": "3"}).json()
    assert [len(stats[k]) for k in ("sign_ins_per_day", "sign_ups_per_day",
                                    "failed_logins_per_hour")] == [2, 2, 3]
    assert stats["sign_ins_per_day"][-1]["count"] >= 1
    assert stats["sign_ups_per_day"][-1]["count"] >= 1
    assert stats["failed_logins_per_hour"][-1]["count"] >= 1
    assert stats["sign_ins_per_day"][-1]["start"] == int(now // 86400 * 86400)
    # Client tokens never open the admin routes.
    resp = api.http.get(admin.path(paths.AUDIT_LOG), headers=auth(target["access_token"]))
    assert resp.status_code == 401
