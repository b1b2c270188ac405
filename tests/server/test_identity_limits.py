"""Linking grows a user only by identities that prove somebody, and only so far (review
finding D): ``?link=true`` with anonymous credentials added a fresh anonymous identity on every
call, without bound, to the profile, every token's work and the store."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest
from starlette.testclient import TestClient

from server import create_app
from server.services.identity_limits import MAX_IDENTITIES
from tests.conftest import APP_ID, make_settings

from .helpers import Api, assert_error

SECRET = "a-shared-secret-of-more-than-32-bytes-for-hs256!"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    overrides = {"providers": {"custom-token": {
        "enabled": True, "algorithm": "HS256", "signing_keys": [SECRET], "audience": ""}}}
    settings = make_settings(tmp_path_factory.mktemp("links"), overrides)
    with TestClient(create_app(settings)) as client:
        yield Api(client)


def _jwt(sub: str) -> str:
    claims = {"sub": sub, "aud": APP_ID, "exp": int(time.time()) + 600, "iat": int(time.time())}
    return str(jwt.encode(claims, SECRET, algorithm="HS256"))


def _identities(api: Api, token: str) -> list[str]:
    return [i["provider_type"] for i in api.profile(token).json()["identities"]]


def test_anonymous_credentials_cannot_be_linked(api: Api) -> None:
    user = api.login("custom-token", {"token": _jwt(f"anon-link-{time.time_ns()}")}).json()
    for _ in range(3):
        resp = api.login("anon-user", {}, link_token=user["access_token"])
        assert_error(resp, 400, "BadRequest", contains="anonymous credentials cannot be linked")
    assert _identities(api, user["access_token"]) == ["custom-token"]
    # An anonymous user links a real identity as before.
    anon = api.anon_ok()
    linked = api.login("custom-token", {"token": _jwt(f"anon-to-jwt-{time.time_ns()}")},
                       link_token=anon["access_token"])
    assert linked.status_code == 200 and linked.json()["user_id"] == anon["user_id"]
    assert _identities(api, anon["access_token"]) == ["anon-user", "custom-token"]


def test_a_user_has_at_most_max_identities(api: Api) -> None:
    stem = f"many-{time.time_ns()}"
    user = api.login("custom-token", {"token": _jwt(f"{stem}-0")}).json()
    for n in range(1, MAX_IDENTITIES):
        resp = api.login("custom-token", {"token": _jwt(f"{stem}-{n}")},
                         link_token=user["access_token"])
        assert resp.status_code == 200, resp.text
    resp = api.login("custom-token", {"token": _jwt(f"{stem}-last")},
                     link_token=user["access_token"])
    assert_error(resp, 400, "BadRequest", contains=f"at most {MAX_IDENTITIES} identities")
    assert len(_identities(api, user["access_token"])) == MAX_IDENTITIES
    # The refused identity was not created either: it logs in as a user of its own.
    alone = api.login("custom-token", {"token": _jwt(f"{stem}-last")}).json()
    assert alone["user_id"] != user["user_id"]
