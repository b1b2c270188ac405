"""Custom user data has a size limit, ``[custom_user_data] max_bytes``, on every way it is
written (review finding G): every access token carries the document, and a function that wrote
a large one made 80 KB tokens, which nginx refuses with its own HTML 400."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from server import create_app
from server.admin import custom_data_command
from server.admin_api import paths
from server.importer.custom_data import import_custom_data
from server.services import custom_data_size
from server.settings import ConfigError
from tests.conftest import make_settings

from .admin_helpers import Admin, make_admin_key
from .helpers import Api, assert_error, claims

FUNCTIONS = Path(__file__).with_name("functions_for_calls.py")
LIMIT = 1024
BIG = {"notes": "x" * 2000}
SMALL = {"plan": "pro", "notes": "x" * 900}


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    settings = make_settings(tmp_path_factory.mktemp("size"), {
        "functions": str(FUNCTIONS), "custom_user_data": {"max_bytes": LIMIT}})
    with TestClient(create_app(settings)) as client:
        yield Api(client)


def _call(api: Api, token: str, name: str, *args: Any) -> Any:
    return api.http.post(f"/api/client/v2.0/app/{api.app_id}/functions/call",
                         json={"name": name, "arguments": list(args)},
                         headers={"Authorization": f"Bearer {token}"})


def test_a_function_cannot_write_more_than_max_bytes(api: Api) -> None:
    user = api.anon_ok()
    resp = _call(api, user["access_token"], "set_custom", BIG)
    assert_error(resp, 400, "FunctionExecutionError", contains="max_bytes")
    assert _call(api, user["access_token"], "set_custom", SMALL).status_code == 200
    fresh = api.refresh(user["refresh_token"]).json()["access_token"]
    assert claims(fresh)["user_data"]["plan"] == "pro"


def test_the_admin_api_refuses_too_large_documents(api: Api) -> None:
    settings = api.services.settings
    key, private = make_admin_key(settings, "size")
    admin = Admin(api.http, settings, key.public_key, private)
    uid = api.anon_ok()["user_id"]
    assert_error(admin.put(paths.USER_CUSTOM_DATA, BIG, user_id=uid), 413, "RequestTooLarge",
                 contains="max_bytes")
    assert admin.put(paths.USER_CUSTOM_DATA, SMALL, user_id=uid).status_code == 204


def test_the_cli_and_the_import_refuse_too_large_documents(
        api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    uid = api.anon_ok()["user_id"]
    status = api.run(custom_data_command, api.services, "set", uid, '{"n": "' + "x" * 2000 + '"}')
    assert status == 1 and "max_bytes" in capsys.readouterr().out
    text = f'{{"user_id": "{uid}", "n": "{"x" * 2000}"}}\n{{"user_id": "{uid}", "n": 1}}\n'
    report = api.run(import_custom_data, api.services, text)
    assert report.written == 1 and "line 1" in report.problems[0]
    assert "max_bytes" in report.problems[0]


def test_the_largest_token_fits_nginx_header_buffers(api: Api) -> None:
    # The default limit keeps every access token under deploy/nginx.conf's header buffers,
    # with the claims around the document and base64url's third.
    assert "large_client_header_buffers 4 32k;" in (
        Path(__file__).parents[2] / "deploy" / "nginx.conf").read_text()
    limit = custom_data_size.DEFAULT_MAX_BYTES
    doc = {"n": "x" * (limit - len('{"n":"","user_id":""}') - 24), "user_id": "0" * 24}
    assert custom_data_size.size_of(doc) == limit
    token = api.services.signer.access_token("0" * 24, "1" * 24, "2" * 24, doc, 1800)
    assert len(f"Authorization: Bearer {token}") < 32 * 1024 - 1024


def test_the_limit_is_checked_in_the_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="max_bytes"):
        make_settings(tmp_path, {"custom_user_data": {"max_bytes": "16k"}})
