"""Anonymous login's one-write path (``server/services/anonymous_login.py``) against the general
one: the same user, session, audit trail and session list, and the cases it leaves alone.

The behaviours of anonymous login itself (answers, limits, events) are tested in
``test_login.py``, ``test_ratelimit.py`` and ``test_audit_log.py``, on whichever path it takes.
"""

from __future__ import annotations

from typing import Any

from app.sdk import routes
from server.services import ratelimit

from .helpers import Api, assert_error, auth


def test_one_write_makes_the_same_user_session_and_trail(make_api) -> None:
    api: Api = make_api()
    store = api.services.store
    before = store.create_user_session
    calls: list[str] = []

    async def spy(*args: Any, **kwargs: Any) -> bool:
        calls.append("create_user_session")
        return bool(await before(*args, **kwargs))

    store.create_user_session = spy  # A pass-through spy: the real store answers.
    login = api.anon_ok()
    assert calls == ["create_user_session"]
    profile = api.http.get(routes.profile(), headers=auth(login["access_token"])).json()
    assert profile["user_id"] == login["user_id"]
    assert [i["provider_type"] for i in profile["identities"]] == ["anon-user"]
    user = api.run(store.get_user, login["user_id"])
    assert user.last_login_at is not None
    listed = api.http.get(routes.sessions(), headers=auth(login["access_token"])).json()
    assert [(s["provider"], s["current"]) for s in listed] == [("anon-user", True)]
    refreshed = api.http.post(routes.session(), headers=auth(login["refresh_token"]))
    assert refreshed.status_code == 201


def test_a_second_factor_asked_of_anonymous_logins_takes_the_general_path(make_api) -> None:
    api: Api = make_api({"mfa": {"enabled": True, "required": True,
                                 "providers": ["anon-user"]}})
    assert_error(api.anon(), 401, "SecondFactorEnrolmentRequired")


def test_a_limit_at_the_maximum_counts_nothing(make_api) -> None:
    api: Api = make_api({"security": {"logins_per_address": ratelimit.NO_LIMIT}})
    for _ in range(3):
        api.anon_ok()
    assert api.login("custom-function", {"username": "ada", "secret": "v3ry-s3cret"}
                     ).status_code == 200
    assert api.run(api.services.store.rate_count, "logins-address:testclient", 1e9, 2e9) == 0
