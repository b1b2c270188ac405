"""Three server processes on one PostgreSQL behind nginx with ``deploy/nginx.conf`` (issue 8).

Through the one address, our SDK's whole scenario suite and a set of the official realm-web
client's interop scenarios pass while nginx spreads their requests over the processes. The
login rate limit per address sees each client's own address (nginx's ``X-Forwarded-For``,
trusted through ``serve.py --forwarded-allow-ips``), which the client cannot choose.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from app.sdk import routes
from tests.interop import test_realm_web as realm
from tests.sdk import scenarios
from tests.sdk.helpers import ScenarioContext
from tests.sdk.runner import run
from tests.sdk.test_scenarios import app_factory
from tests.server.helpers import Api, assert_error

from .cluster import DEPLOY_NGINX, Nginx, ServeProcess, render_site
from .conftest import StartProcesses

MakeNginx = Callable[[list[ServeProcess]], Nginx]


@pytest.fixture
def front(trio: list[ServeProcess], nginx_factory: MakeNginx) -> Nginx:
    """nginx on a free loopback port in front of the module's three processes."""
    return nginx_factory(trio)


def test_requests_are_spread_over_every_process(front: Nginx, trio: list[ServeProcess]) -> None:
    with httpx.Client(base_url=front.base_url) as http:
        location = Api(http).location().json()
        for _ in range(12):
            assert Api(http).anon().status_code == 200
    # location answers with the address the client used: nginx's, not a process's.
    assert location["hostname"] == front.base_url
    # Access lines are written in blocks (observability/batched_log.py, every 0.2 s).
    deadline = time.monotonic() + 5
    while True:
        served = [p.output().count("/auth/providers/anon-user/login") for p in trio]
        if all(count >= 1 for count in served) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert all(count >= 1 for count in served), served


@pytest.mark.parametrize("scenario", scenarios.ALL, ids=lambda fn: fn.__name__[9:])
def test_sdk_scenario_through_nginx(scenario: Any, front: Nginx) -> None:
    ctx = ScenarioContext(app_id=front.app_id, base_url=front.base_url)
    run(scenario(app_factory(front), ctx))


REALM_WEB_SCENARIOS = [
    realm.test_anonymous_login_profile_and_custom_data,
    realm.test_two_users_switch_logout_remove,
    realm.test_register_login_refresh_logout,
    realm.test_foreign_access_token_is_refreshed_then_retried,
    realm.test_link_email_password_to_anonymous_user,
    realm.test_delete_user_then_login_fails,
    realm.test_refresh_custom_data_after_function_writes_it,
    realm.test_api_keys_lifecycle,
]


@pytest.mark.node
@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
@pytest.mark.skipif(not realm.REALM_WEB.exists(), reason="realm-web is not installed (npm ci)")
@pytest.mark.parametrize("check", REALM_WEB_SCENARIOS, ids=lambda fn: fn.__name__[5:])
def test_realm_web_through_nginx(check: Callable[[Any], None], front: Nginx) -> None:
    check(front)


def test_rate_limits_see_the_client_address_not_nginx(processes: StartProcesses,
                                                      nginx_factory: MakeNginx) -> None:
    group = processes(2, {"security": {"login_attempts_per_address": 3}},
                      "--forwarded-allow-ips", "127.0.0.1")
    front = nginx_factory(group)

    def client(source: str) -> httpx.Client:
        # Loopback has all of 127.0.0.0/8: each client connects to nginx from its own address.
        transport = httpx.HTTPTransport(local_address=source)
        return httpx.Client(base_url=front.base_url, transport=transport)

    login = routes.login(front.app_id, routes.LOCAL_USERPASS)
    bad = {"username": "nobody@example.com", "password": "not the password"}
    with client("127.0.0.3") as first, client("127.0.0.4") as second:
        for n in range(3):
            # A forged X-Forwarded-For does not buy a fresh allowance: nginx replaces it.
            resp = first.post(login, json=bad, headers={"X-Forwarded-For": f"10.0.0.{n}"})
            assert_error(resp, 401, "InvalidPassword")
        resp = first.post(login, json=bad, headers={"X-Forwarded-For": "10.0.0.9"})
        assert_error(resp, 429, "TooManyRequests")
        # Another client address still has its own allowance, on whichever process.
        for _ in range(3):
            assert_error(second.post(login, json=bad), 401, "InvalidPassword")
        assert_error(second.post(login, json=bad), 429, "TooManyRequests")


def test_the_shipped_config_is_rendered_only_in_port_and_upstreams() -> None:
    shipped = DEPLOY_NGINX.read_text()
    rendered = render_site([9101, 9102], 9100)
    assert "listen 127.0.0.1:9100;" in rendered and "listen 80;" in shipped
    assert rendered.count("server 127.0.0.1:91") == 2
    # Everything else is the file as shipped: the proxy headers that the tests rely on above.
    for line in ("proxy_set_header X-Forwarded-For $remote_addr;",
                 "proxy_set_header Host $http_host;", "proxy_http_version 1.1;"):
        assert line in shipped and line in rendered
