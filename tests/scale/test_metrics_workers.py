"""``/metrics`` of ``serve.py --workers 2``: every worker's counts in one scrape, whichever
worker answers it (prometheus-client's multiprocess mode, the directory ``serve.py`` empties at
start), parsed with prometheus-client's own parser; and ``--log-json`` lines with no secret."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.sdk import routes
from tests.conftest import TEST_STORE

from .cluster import APP_ID, spawn, wait_ready, write_config

# Not the location route, which wait_ready calls: this one is called by the test alone.
PROVIDERS = routes.providers("{app_id}")


def count(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


def test_two_workers_share_one_scrape(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if TEST_STORE == "postgres":
        url = request.getfixturevalue("postgres_server").fresh_url()
    else:
        url = f"sqlite:{tmp_path / 'shared.sqlite3'}"
    stale = tmp_path / "metrics" / "metrics"
    stale.mkdir(parents=True)
    (stale / "counter_1.db").write_bytes(b"left by an earlier run")
    config = write_config(tmp_path / "app.toml")
    process = spawn("metrics", tmp_path, url, config, "--workers", "2", "--log-json")
    try:
        wait_ready(process)
        assert not (stale / "counter_1.db").exists()  # Emptied at start.
        fresh = httpx.Limits(max_keepalive_connections=0)  # Each request a new connection.
        with httpx.Client(base_url=process.base_url, limits=fresh, timeout=30) as http:
            for _ in range(20):
                assert http.get(routes.providers(APP_ID)).status_code == 200
            session = http.post(routes.login(APP_ID, routes.ANON_USER), json={}).json()
            # Each worker moves its counts into the shared files once a second.
            deadline = time.monotonic() + 10
            while count(http.get("/metrics").text, "latchkey_http_requests_total",
                        route=PROVIDERS) < 20 and time.monotonic() < deadline:
                time.sleep(0.2)
            scrapes = [http.get("/metrics") for _ in range(6)]
        for scrape in scrapes:
            assert scrape.status_code == 200
            text = scrape.text
            assert count(text, "latchkey_http_requests_total", route=PROVIDERS) == 20
            assert count(text, "latchkey_logins_total", provider="anon-user",
                         outcome="success") == 1
            assert count(text, "latchkey_active_sessions") == 1
        # Both workers answered some of the 20: each keeps its own file of values.
        assert len(list(stale.glob("counter_*.db"))) >= 2
    finally:
        process.stop()
    lines = [line for line in process.output().splitlines() if line.startswith("{")]
    access = [json.loads(line) for line in lines if '"uvicorn.access"' in line]
    assert any(a["path"] == routes.login(APP_ID, routes.ANON_USER) and a["status"] == 200
               for a in access)
    for secret in (session["access_token"], session["refresh_token"]):
        assert secret not in process.output()
