"""Unexpected failures still answer in the wire shape, with CORS; logs keep tokens out."""

from __future__ import annotations

import logging

import httpx
from starlette.routing import Route
from starlette.testclient import TestClient

from server import create_app
from server.asgi import DropQueryStrings


def test_unexpected_exception_is_a_500_error_json_with_cors(settings):
    async def boom(request):
        raise RuntimeError("secret-detail-that-must-not-leak")

    app = create_app(settings)
    app.router.routes.insert(0, Route("/api/client/v2.0/boom", boom))
    with TestClient(app, raise_server_exceptions=False) as client:
        resp = client.get("/api/client/v2.0/boom", headers={"Origin": "http://localhost:8000"})
    assert resp.status_code == 500
    assert resp.headers["content-type"] == "application/json"
    assert resp.json()["error_code"] == "InternalServerError"
    assert "secret-detail" not in resp.text
    assert resp.headers["access-control-allow-origin"] == "http://localhost:8000"


def test_access_log_drops_query_strings():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:1", "GET", "/reset.html?token=abc&tokenId=def", "1.1",
                                200), None)
    assert DropQueryStrings().filter(record)
    assert "token=" not in record.getMessage()
    assert "/reset.html" in record.getMessage()


def test_email_links_use_the_serving_address_not_the_host_header(server_factory):
    live = server_factory({"providers": {"local-userpass": {"confirmation": "email"}}})
    resp = httpx.post(
        f"{live.base_url}/api/client/v2.0/app/latchkey-demo/auth/providers/local-userpass/register",
        json={"email": "host@example.com", "password": "p4ssword!"},
        headers={"Host": "evil.example"},
    )
    assert resp.status_code == 201, resp.text
    (mail,) = live.outbox()
    assert f"{live.base_url}/confirm.html?token=" in mail["body"]
    assert "evil.example" not in mail["body"]
