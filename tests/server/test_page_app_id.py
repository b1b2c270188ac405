"""The pages sign in to the served app: a config with its own app id gets pages that name it.

Found by serving the App Services export fixture (``tasktracker-abcde``): the page at ``/`` still
said ``latchkey-demo`` and every button answered "cannot find app using Client App ID".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from server import create_app
from tests.conftest import make_settings

PAGES = ("/", "/index.html", "/confirm.html", "/reset.html")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data_dir: Path = tmp_path_factory.mktemp("page-app-id")
    app = create_app(make_settings(data_dir, {"app_id": "myapp-abcde"}))
    with TestClient(app, base_url="http://testserver") as test_client:
        yield test_client


def _app_id(page: str) -> str:
    found = re.search(r'<html\b[^>]*\bdata-app-id="([^"]*)"', page)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("path", PAGES)
def test_the_pages_name_the_configured_app(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert _app_id(page.text) == "myapp-abcde"
    assert "content-security-policy" in page.headers
    # The page's own app answers; the demo's id would be AppNotFound here.
    location = client.get("/api/client/v2.0/app/myapp-abcde/location")
    assert location.status_code == 200


def test_a_named_page_is_revalidated_by_etag(client: TestClient) -> None:
    first = client.get("/")
    again = client.get("/", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]


def test_the_demo_pages_go_out_as_they_are(tmp_path: Path) -> None:
    # The demo config names the id the files carry: the file is served as it is.
    with TestClient(create_app(make_settings(tmp_path))) as demo:
        page = demo.get("/")
    assert _app_id(page.text) == "latchkey-demo"
    assert page.content == (Path(__file__).resolve().parents[2] / "index.html").read_bytes()
