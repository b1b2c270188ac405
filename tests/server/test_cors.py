"""CORS: preflights for allowed origins, refusal of others, headers on actual requests
(protocol 1.7; scenario 5)."""

from __future__ import annotations

import httpx
import pytest

from app.sdk import routes

from .helpers import APP_ID, Api, assert_error, auth

ALLOWED = "http://localhost:8000"  # in config/demo.toml
EVIL = "https://evil.example"

PATHS = [
    (routes.location(APP_ID), "GET"),
    (routes.login(APP_ID, "anon-user"), "POST"),
    (routes.login(APP_ID, "local-userpass", link=True), "POST"),
    (routes.userpass(APP_ID, "register"), "POST"),
    (routes.userpass(APP_ID, "reset/call"), "POST"),
    (routes.profile(), "GET"),
    (routes.session(), "POST"),
    (routes.session(), "DELETE"),
    (routes.delete_user(), "DELETE"),
    (routes.functions_call(APP_ID), "POST"),
    (routes.api_keys(), "GET"),
    (routes.api_key_enable("65a0c0ffee0000000000abcd"), "PUT"),
]


def preflight(api: Api, path: str, method: str, origin: str) -> httpx.Response:
    return api.http.options(path, headers={
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    })


def listed(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",")}


@pytest.mark.parametrize("path, method", PATHS)
def test_preflight_from_an_allowed_origin(api: Api, path: str, method: str) -> None:
    resp = preflight(api, path, method, ALLOWED)
    assert resp.status_code == 204
    assert resp.content == b"" and "content-type" not in resp.headers
    assert resp.headers["access-control-allow-origin"] == ALLOWED
    # PATCH: renaming a passkey (issue 14) from an embedding page.
    assert {"get", "post", "put", "patch", "delete"} \
        <= listed(resp.headers["access-control-allow-methods"])
    assert {"authorization", "content-type", "accept"} \
        <= listed(resp.headers["access-control-allow-headers"])
    assert "x-baas-location" in listed(resp.headers["access-control-expose-headers"])
    assert resp.headers["access-control-allow-credentials"] == "true"
    assert "origin" in listed(resp.headers["vary"])


@pytest.mark.parametrize("origin", [EVIL, "null", "http://localhost:8001", "http://localhost"])
def test_preflight_from_another_origin_is_refused(api: Api, origin: str) -> None:
    resp = preflight(api, routes.profile(), "GET", origin)
    assert_error(resp, 403, "DomainNotAllowed")
    assert "access-control-allow-origin" not in resp.headers


def test_actual_requests_carry_the_cors_headers(api: Api) -> None:
    resp = api.http.post(routes.login(APP_ID, "anon-user"), json={}, headers={"Origin": ALLOWED})
    assert resp.status_code == 200
    assert resp.headers["access-control-allow-origin"] == ALLOWED
    assert "x-baas-location" in listed(resp.headers["access-control-expose-headers"])
    tokens = resp.json()
    # Errors carry them too, so the page can read the error body.
    resp = api.http.get(routes.profile(), headers={"Origin": ALLOWED, **auth("garbage")})
    assert_error(resp, 401, "InvalidSession")
    assert resp.headers["access-control-allow-origin"] == ALLOWED
    # And bodiless successes.
    resp = api.http.delete(routes.session(),
                           headers={"Origin": ALLOWED, **auth(tokens["refresh_token"])})
    assert resp.status_code == 204
    assert resp.headers["access-control-allow-origin"] == ALLOWED


def test_actual_requests_from_other_origins_get_no_cors_headers(api: Api) -> None:
    resp = api.http.get(routes.location(APP_ID), headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in resp.headers
    # Responses that depend on Origin say so, for caches between browsers and the server.
    assert "origin" in listed(resp.headers.get("vary", ""))


def test_requests_without_origin_are_untouched(api: Api) -> None:
    resp = api.location()
    assert resp.status_code == 200
    assert not any(h.startswith("access-control-") for h in resp.headers)
    assert "origin" in listed(resp.headers["vary"])


def test_the_servers_own_origin_is_always_allowed(live_server) -> None:
    with httpx.Client(base_url=live_server.base_url) as http:
        resp = preflight(Api(http), routes.profile(), "GET", live_server.base_url)
    assert resp.status_code == 204
    assert resp.headers["access-control-allow-origin"] == live_server.base_url


def test_wildcard_and_trailing_slashes_in_the_config(make_api) -> None:
    api = make_api({"cors": {"allowed_origins": ["*"]}})
    resp = preflight(api, routes.profile(), "GET", EVIL)
    assert resp.status_code == 204
    assert resp.headers["access-control-allow-origin"] == EVIL
    api = make_api({"cors": {"allowed_origins": ["https://app.example/"]}})
    assert preflight(api, routes.profile(), "GET", "https://app.example").status_code == 204


def test_options_without_a_preflight_header_is_not_a_preflight(api: Api) -> None:
    resp = api.http.options(routes.profile(), headers={"Origin": ALLOWED})
    assert_error(resp, 405, "MethodNotAllowed")
    assert resp.headers["access-control-allow-origin"] == ALLOWED
