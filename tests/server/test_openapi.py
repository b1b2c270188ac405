"""The OpenAPI document is true: it lists exactly the app's routes and methods, every failure is
the one shared error, it is valid OpenAPI 3.1, and the server serves it and its page.

What each operation answers is checked against the running server by ``test_fuzz.py``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
import schemathesis
from starlette.routing import BaseRoute, Mount, Route
from starlette.testclient import TestClient

from app.sdk.errors import ErrorCode
from server import create_app
from server.openapi import build
from server.openapi.document import DESCRIPTION
from server.openapi.operations import OPERATIONS
from server.openapi.schemas import CLIENT_ONLY_CODES, ERROR_REF, ERROR_SCHEMA_REF
from server.routes.table import ROUTES
from server.settings import Settings
from server.web import frontend_routes

from .helpers import APP_ID, assert_error

METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
DOC = build(APP_ID, "http://testserver")


def _key(route: BaseRoute) -> tuple[str, str]:
    assert isinstance(route, Route | Mount), route
    return type(route).__name__, route.path


def served_operations(routes: list[BaseRoute]) -> set[tuple[str, str]]:
    """``(method, path)`` of every route; HEAD goes without saying beside GET."""
    found = set()
    for route in routes:
        assert isinstance(route, Route), f"the API has a route of another kind: {route!r}"
        for method in route.methods or ():
            if method != "HEAD":
                # A "{name:path}" parameter is documented as "{name}".
                found.add((method.lower(), route.path.replace(":path}", "}")))
    return found


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method, path) for path, item in document["paths"].items()
            for method in item if method in METHODS}


def api_routes(settings: Settings) -> list[BaseRoute]:
    """The app's routes less the front end (which the document only summarises)."""
    frontend = {_key(r) for r in frontend_routes(img_sources=())}
    return [r for r in create_app(settings).routes if _key(r) not in frontend]


def test_every_route_and_method_is_documented_and_nothing_else(settings: Settings) -> None:
    routes = api_routes(settings)
    served, documented = served_operations(routes), documented_operations(DOC)
    assert served - documented == set(), "served but not in the OpenAPI document"
    assert documented - served == set(), "in the OpenAPI document but not served"
    # server.routes.table.ROUTES is the whole API: create_app adds nothing but the front end.
    assert served_operations(list(ROUTES)) == served


def test_the_summary_names_every_front_end_route_left_out() -> None:
    for route in frontend_routes(img_sources=()):
        path = _key(route)[1]
        prefix = "/" + path.strip("/").split("/")[0] if path != "/" else "/"
        assert f"`{prefix}" in DESCRIPTION, path


def test_operation_ids_are_unique_and_path_parameters_declared() -> None:
    ids = [op.operation_id for op in OPERATIONS]
    assert len(ids) == len(set(ids))
    for path, item in DOC["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for method in (m for m in item if m in METHODS):
            declared = {p["$ref"].rsplit("/", 1)[-1] for p in item[method].get("parameters", [])
                        if "$ref" in p}
            assert declared == names, (method, path)


def test_every_error_answer_is_the_one_shared_error() -> None:
    assert DOC["components"]["responses"]["Error"]["content"] == {
        "application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}
    error = DOC["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "error_code", "link"]
    assert {name: prop["type"] for name, prop in error["properties"].items()} == {
        "error": "string", "error_code": "string", "link": "string"}
    for path, item in DOC["paths"].items():
        for method in (m for m in item if m in METHODS):
            for status, response in item[method]["responses"].items():
                if status == "default" or int(status) >= 400:
                    assert response["$ref"] == ERROR_REF, (method, path, status)
                else:
                    assert "$ref" not in response, (method, path, status)


def test_every_json_body_documents_too_large_and_unsupported_media_type() -> None:
    for op in OPERATIONS:
        if op.body is not None:
            assert {400, 413, 415} <= set(op.errors), op.operation_id


def test_error_codes_named_in_the_document_exist() -> None:
    known = {code.value for code in ErrorCode if code not in CLIENT_ONLY_CODES}
    texts = [text for op in OPERATIONS for text in op.errors.values()]
    named = {m for text in texts for m in re.findall(r"`([A-Z][A-Za-z]+)`", text)}
    assert named and named <= known, named - known


def test_the_document_is_valid_openapi_3_1() -> None:
    assert DOC["openapi"] == "3.1.0"
    schema = schemathesis.openapi.from_dict(DOC)
    schema.validate()
    assert len(list(schema.get_all_operations())) == len(OPERATIONS)


def test_the_server_serves_the_document(client: TestClient) -> None:
    resp = client.get("/openapi.json")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/json"
    assert resp.json() == DOC
    assert client.head("/openapi.json").status_code == 200


def test_the_document_names_the_public_url(make_api: Any) -> None:
    api = make_api({"public_url": "https://auth.example.org/"})
    doc = api.http.get("/openapi.json").json()
    assert doc["servers"] == [{"url": "https://auth.example.org"}]
    assert doc["components"]["parameters"]["app_id"]["example"] == APP_ID


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        for name in ("href", "src"):
            if values.get(name):
                self.links.append(str(values[name]))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_page_lists_every_operation_and_loads_nothing_from_elsewhere(
        client: TestClient) -> None:
    resp = client.get("/docs")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in resp.headers["content-security-policy"]
    page = _Page()
    page.feed(resp.text)
    text = " ".join(page.text)
    for op in OPERATIONS:
        assert op.operation_id in page.ids, op.operation_id
        assert op.path in text and op.summary in text, op.operation_id
    for name in DOC["components"]["schemas"]:
        assert f"schema-{name}" in page.ids, name
    assert "script" not in page.tags and "img" not in page.tags
    assert page.tags.count("h1") == 1
    for link in page.links:
        assert link.startswith("#") and link[1:] in page.ids or link == "/openapi.json", link


def test_a_hostile_host_header_cannot_put_markup_on_the_page(client: TestClient) -> None:
    resp = client.get("/docs", headers={"Host": "evil<script>x</script>"})
    assert "<script>" not in resp.text


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.security in
                                ("accessToken", "refreshToken")], ids=lambda op: op.operation_id)
def test_operations_that_need_a_token_refuse_without_one(client: TestClient, op: Any) -> None:
    path = op.path.format(app_id=APP_ID, key_id="0" * 24, credential_id="AAAA",
                          session_id="0" * 24)
    resp = client.request(op.method.upper(), path, json={} if op.body else None)
    assert_error(resp, 401, "MissingAuthReq", "must authenticate first")
