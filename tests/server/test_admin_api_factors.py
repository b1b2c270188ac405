"""The Admin API's reset of a user's second factors (issue 14, Latchkey's addition) over real
HTTP, on the test store: ``DELETE .../users/{user_id}/factors`` removes the TOTP authenticator
and recovery codes as ``serve.py users reset-factors`` does, so the next password login gets
tokens; it is in the audit log, answers 404 for an unknown user and refuses client tokens."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from server.admin_api import paths
from tests.conftest import LiveServer, make_settings, start_server

from .admin_helpers import Admin, make_admin_key
from .helpers import Api, assert_empty, assert_error, auth
from .test_mfa import challenge, enrol


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # The demo config turns second factors on for email/password logins.
    server = start_server(make_settings(tmp_path_factory.mktemp("admin-factors") / "data"))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_step() -> None:
    # As in test_mfa: no 30-second step boundary inside a test, so the enrolment code holds.
    left = 30 - time.time() % 30
    if left < 6:
        time.sleep(left + 0.05)


def test_an_admin_resets_a_users_factors(live: LiveServer) -> None:
    with httpx.Client(base_url=live.base_url, timeout=30) as http:
        api = Api(http)
        key, private = make_admin_key(live.settings, "helpdesk")
        admin = Admin(http, live.settings, key.public_key, private)
        user = api.user("lost-phone@example.com")
        uid = user["user_id"]
        enrol(api, user["access_token"])
        assert challenge(api, "lost-phone@example.com")["factors"] == ["totp", "recovery_code"]

        # A client token (even the user's own) does not open the route.
        refused = http.delete(admin.path(paths.USER_FACTORS, user_id=uid),
                              headers=auth(user["access_token"]))
        assert_error(refused, 401, "InvalidSession")
        assert_error(http.delete(admin.path(paths.USER_FACTORS, user_id=uid)), 401,
                     "MissingAuthReq")
        challenge(api, "lost-phone@example.com")

        assert_empty(admin.delete(paths.USER_FACTORS, user_id=uid))
        tokens = api.log_in_ok("lost-phone@example.com")
        assert tokens["user_id"] == uid and api.profile(tokens["access_token"]).status_code == 200
        # Again, with nothing left to remove: still 204.
        assert_empty(admin.delete(paths.USER_FACTORS, user_id=uid))
        assert_error(admin.delete(paths.USER_FACTORS, user_id="0" * 24), 404, "UserNotFound")

        log = admin.get(paths.AUDIT_LOG, {"user_id": uid, "kind": "admin_user_factors_reset"})
        assert log.status_code == 200, log.text
        assert [(e["actor"], e["detail"]) for e in log.json()] == [
            (key.id, {"admin_name": "helpdesk", "found": False}),
            (key.id, {"admin_name": "helpdesk", "found": True})]
