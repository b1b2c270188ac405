"""Location discovery (protocol 2; scenarios 1-3)."""

from __future__ import annotations

import httpx

from app.sdk import routes

from .helpers import Api, assert_error


def test_location_points_back_at_the_server(api: Api) -> None:
    resp = api.location()
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == {
        "hostname": "http://testserver",
        "ws_hostname": "ws://testserver",
        "deployment_model": "LOCAL",
        "location": "self-hosted",
    }
    # It follows the Host header (no public_url here), so no cache may keep it.
    assert resp.headers["cache-control"] == "no-store"


def test_location_over_loopback_is_usable_as_a_prefix(live_server) -> None:
    with httpx.Client(base_url=live_server.base_url) as http:
        body = Api(http).location().json()
    assert body["hostname"] == live_server.base_url
    assert not body["hostname"].endswith("/")
    assert body["ws_hostname"] == "ws://" + live_server.base_url.removeprefix("http://")
    # Every later route works when prefixed with the hostname.
    resp = httpx.post(body["hostname"] + routes.login(live_server.app_id, "anon-user"),
                      json={"options": {"device": {}}})
    assert resp.status_code == 200


def test_public_url_wins_and_loses_its_trailing_slash(make_api) -> None:
    api = make_api({"public_url": "https://auth.example.org/"})
    body = api.location().json()
    assert body["hostname"] == "https://auth.example.org"
    assert body["ws_hostname"] == "wss://auth.example.org"


def test_bodiless_get_with_a_json_content_type_is_accepted(api: Api) -> None:
    resp = api.http.get(routes.location(api.app_id),
                        headers={"Content-Type": "application/json;charset=utf-8",
                                 "Accept": "application/json"})
    assert resp.status_code == 200


def test_unknown_app_id_is_named_in_the_error(api: Api) -> None:
    other = Api(api.http, "no-such-app")
    assert_error(other.location(), 404, "AppNotFound",
                 "cannot find app using Client App ID 'no-such-app'")
    assert_error(other.anon(), 404, "AppNotFound",
                 contains="cannot find app using Client App ID 'no-such-app'")
    assert_error(other.register("a@example.com"), 404, "AppNotFound",
                 contains="cannot find app using Client App ID")


def test_a_long_unknown_app_id_is_cut_short_in_the_error(api: Api) -> None:
    body = assert_error(Api(api.http, "x" * 5000).location(), 404, "AppNotFound")
    assert len(body["error"]) < 300
