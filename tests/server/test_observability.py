"""``/health/live``, ``/health/ready``, ``/metrics`` and JSON log lines, on the real server.

The store goes down for real: closed under the running app, or (PostgreSQL) cut off by a TCP
proxy between the server and the database, the only fake, at the network edge.
"""

from __future__ import annotations

import json
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from app.sdk import routes
from server import create_app
from server.observability import metrics
from server.observability.jsonlog import JsonFormatter, redact
from server.settings import ConfigError
from tests.conftest import TEST_STORE, LiveServer, make_settings, start_server

from .helpers import APP_ID, Api, assert_error, auth

TOKEN_ENV = "LATCHKEY_TEST_METRICS_TOKEN"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(make_settings(tmp_path_factory.mktemp("ops")))
    yield server
    server.stop()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a scrape, parsed by prometheus-client's own parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_health_answers_like_keycloak(live: LiveServer) -> None:
    with httpx.Client(base_url=live.base_url) as http:
        assert http.get("/health/live").json() == {"status": "UP"}
        ready = http.get("/health/ready")
        assert ready.status_code == 200 and ready.headers["cache-control"] == "no-store"
        assert ready.json() == {"status": "UP", "checks": [{"name": "config", "status": "UP"},
                                                          {"name": "store", "status": "UP"}]}


def test_metrics_count_requests_logins_and_sessions(live: LiveServer,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # The server runs in this process: count the sessions at every scrape, not every 10 s.
    monkeypatch.setattr(metrics, "SESSIONS_CACHE_SECONDS", 0.0)
    with httpx.Client(base_url=live.base_url, timeout=30) as http:
        before = samples(http.get("/metrics").text)
        api = Api(http)
        for _ in range(3):
            api.anon_ok()
        assert api.log_in("nobody@example.com", "wrong-password").status_code == 401
        assert api.login("no-such-provider", {}).status_code == 404
        scrape = http.get("/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain; version=0.0.4")
    after = samples(scrape.text)
    route = routes.login("{app_id}", "{provider}")
    assert value(after, "latchkey_http_requests_total", method="POST", route=route,
                 status="200") - value(before, "latchkey_http_requests_total", method="POST",
                                       route=route, status="200") == 3
    assert value(after, "latchkey_http_request_duration_seconds_count", method="POST",
                 route=route) >= 5
    assert value(after, "latchkey_logins_total", provider="anon-user", outcome="success") >= 3
    assert value(after, "latchkey_logins_total", provider="local-userpass",
                 outcome="InvalidPassword") >= 1
    # A provider name from the URL is a label only when the config enables it.
    assert value(after, "latchkey_logins_total", provider="other",
                 outcome="AuthProviderNotFound") >= 1
    assert not any("no-such-provider" in str(key) for key in after)
    assert value(after, "latchkey_active_sessions") >= 3
    # An anonymous login is one store write (Store.create_user_session).
    assert value(after, "latchkey_store_duration_seconds_count",
                 method="create_user_session") >= 3


def test_metrics_are_closed_to_other_addresses_and_proxied_requests(live: LiveServer,
                                                                    tmp_path: Any) -> None:
    with httpx.Client(base_url=live.base_url) as http:
        resp = http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        assert_error(resp, 404, "NotFound")
    # TestClient's peer is "testclient", not a loopback address.
    with TestClient(create_app(make_settings(tmp_path / "closed"))) as client:
        assert_error(client.get("/metrics"), 404, "NotFound")


def test_metrics_with_a_token_from_anywhere(tmp_path: Any, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    monkeypatch.setenv(TOKEN_ENV, "s3cret-scrape-token")
    settings = make_settings(tmp_path, {"metrics": {"token_env": TOKEN_ENV}})
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 404
        assert client.get("/metrics", headers=auth("wrong")).status_code == 404
        ok = client.get("/metrics", headers=auth("s3cret-scrape-token"))
        assert ok.status_code == 200 and "latchkey_http_requests_total" in ok.text
    off = make_settings(tmp_path / "off", {"metrics": {"enabled": False}})
    with TestClient(create_app(off)) as client:
        assert client.get("/metrics", headers=auth("s3cret-scrape-token")).status_code == 404


def test_ready_is_503_while_the_store_is_closed(tmp_path: Any) -> None:
    with TestClient(create_app(make_settings(tmp_path))) as client:
        assert client.get("/health/ready").status_code == 200
        client.portal.call(client.app.state.services.store.close)  # type: ignore[attr-defined]
        resp = client.get("/health/ready")
        assert resp.status_code == 503
        body = resp.json()
        assert body["status"] == "DOWN" and body["error_code"] == "InternalServerError"
        assert body["checks"][1] == {"name": "store", "status": "DOWN",
                                     "data": {"error": "RuntimeError"}}
        assert client.get("/health/live").status_code == 200


class Proxy:
    """A TCP proxy in a thread: the server's only way to its database, which ``cut`` ends."""

    def __init__(self, target: tuple[Any, ...], family: int) -> None:
        self.target, self.family = target, family
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.pairs: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while self.open:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.socket(self.family, socket.SOCK_STREAM)
            upstream.connect(self.target)
            self.pairs += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.open = False
        # shutdown wakes the thread blocked in accept(); close alone would leave it listening.
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        for s in self.pairs:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def settings_behind_a_proxy(tmp_path: Any) -> tuple[Any, Proxy]:
    """Test settings whose PostgreSQL is reached through a ``Proxy`` that the test can cut."""
    from urllib.parse import urlsplit, urlunsplit

    settings = make_settings(tmp_path)
    parts = urlsplit(settings.database_url)
    if not parts.hostname:
        pytest.skip("the test PostgreSQL listens on a Unix socket only")
    proxy = Proxy((parts.hostname, parts.port or 5432), socket.AF_INET)
    user = f"{parts.username}@" if parts.username else ""
    url = urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))
    return replace(settings, database_url=url), proxy


@pytest.mark.skipif(TEST_STORE != "postgres", reason="cuts a PostgreSQL connection")
def test_ready_is_503_when_postgres_cannot_be_reached(tmp_path: Any) -> None:
    settings, proxy = settings_behind_a_proxy(tmp_path)
    with TestClient(create_app(settings)) as client:
        assert client.get("/health/ready").status_code == 200
        proxy.cut()
        resp = client.get("/health/ready")
        assert resp.status_code == 503, resp.text
        assert resp.json()["checks"][1]["status"] == "DOWN"
        assert client.get("/health/live").status_code == 200


def test_new_config_numbers_are_range_checked(tmp_path: Any) -> None:
    from server.settings import DEFAULT_CONFIG, Settings

    for table in ({"audit": {"retention_days": 0}}, {"audit": {"retension_days": 5}},
                  {"metrics": {"enabled": "yes"}}, {"logging": {"json": 1}}):
        with pytest.raises(ConfigError):
            Settings.load(DEFAULT_CONFIG, tmp_path, overrides=table)
    Settings.load(DEFAULT_CONFIG, tmp_path, overrides={
        "audit": {"retention_days": 30, "prune_interval_minutes": 10},
        "metrics": {"enabled": True, "token_env": TOKEN_ENV}, "logging": {"json": True}})


def test_json_log_lines_hold_no_secret() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"
    assert redact(f"Authorization: Bearer {jwt}") == "Authorization: Bearer [redacted]"
    assert redact("password=hunter22 token: abc apiKey=xyz") == \
        "password=[redacted] token: [redacted] apiKey=[redacted]"
    formatter = JsonFormatter()
    access = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "POST", f"/x/{jwt}", "1.1", 201), None)
    line = json.loads(formatter.format(access))
    assert line["logger"] == "uvicorn.access" and line["status"] == 201
    assert line["method"] == "POST" and line["path"] == "/x/[redacted]"
    try:
        raise ValueError(f"bad token {jwt}")
    except ValueError:
        failure = logging.LogRecord("latchkey.server", logging.ERROR, __file__, 1,
                                    "failed with %s", (f"Bearer {jwt}",), sys.exc_info())
    text = formatter.format(failure)
    assert "\n" not in text and jwt not in text
    assert json.loads(text)["exc_type"] == "ValueError"
    assert APP_ID  # The demo app id is what the other tests log in to.
