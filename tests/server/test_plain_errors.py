"""Every answer of a file route is the error JSON when it fails (review findings A and B):
a bad ``Range`` header got Starlette's plain-text 416 or 400, and a stale Pyodide build tag a
plain-text 404 without ``nosniff``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from server import create_app
from tests.conftest import make_settings

FILES = ["/", "/admin", "/pyscript.toml", "/static/app.css"]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("plain"))
    with TestClient(create_app(settings)) as client:
        yield client


def _error_json(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["x-content-type-options"] == "nosniff"
    body = resp.json()
    assert set(body) == {"error", "error_code", "link"} and body["error_code"] == code
    assert body["link"] == f"http://testserver/docs/errors#{code}"
    return body


@pytest.mark.parametrize("path", FILES)
def test_a_range_beyond_the_file_is_a_416_error_json(client: TestClient, path: str) -> None:
    resp = client.get(path, headers={"Range": "bytes=99999999-"})
    body = _error_json(resp, 416, "RangeNotSatisfiable")
    assert body["error"] == "range not satisfiable"
    assert resp.headers["content-range"].startswith("bytes */")


@pytest.mark.parametrize("path", FILES)
def test_a_malformed_range_is_a_400_error_json(client: TestClient, path: str) -> None:
    body = _error_json(client.get(path, headers={"Range": "bytes=5-1"}), 400, "BadRequest")
    assert "range" in body["error"]


def test_a_stale_pyodide_tag_is_a_404_error_json(client: TestClient) -> None:
    _error_json(client.get("/vendor/pyodide@0000000000/pyodide.js"), 404, "NotFound")


def test_good_ranges_and_files_pass_untouched(client: TestClient) -> None:
    whole = client.get("/static/app.css")
    assert whole.status_code == 200 and whole.headers["content-type"].startswith("text/css")
    part = client.get("/static/app.css", headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == whole.content[:10]
