"""Every error links to its code's entry on this server's own error page (issue 16, item 16), and
every code we send is one native SDKs know unless App Services has none for the situation."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from app.sdk import routes
from app.sdk.errors import ErrorCode
from server import create_app
from server.error_docs import APP_SERVICES, CLIENT, CODES, DOCS_PATH, LATCHKEY
from tests.conftest import make_settings

from .helpers import APP_ID, Api, assert_error

# The service error codes of realm-core's ``src/realm/error_codes.cpp`` (category
# ``service_error``): what native SDKs turn into their own error types. Any other code reaches
# them as an unknown error.
REALM_CORE_SERVICE_CODES = frozenset("""
APIKeyAlreadyExists APIKeyNotFound AWSError AccountNameInUse AppServerError AppUnknownError
ArgumentsNotAllowed AuthError AuthProviderAlreadyExists AuthProviderDuplicateName
AuthProviderNotFound BadRequest DomainNotAllowed ExecutionTimeLimitExceeded FunctionAlreadyExists
FunctionDuplicateName FunctionExecutionError FunctionInvalid FunctionNotFound FunctionSyntaxError
GCMError IncomingWebhookAlreadyExists IncomingWebhookAuthFailed IncomingWebhookDuplicateName
IncomingWebhookNotFound InternalServerError InvalidParameter InvalidPassword InvalidSession
MaintenanceInProgress MissingAuthReq MissingParameter MongoDBError NoMatchingRule NotCallable
ReadSizeLimitExceeded RestrictedHost RuleAlreadyExists RuleDuplicateName RuleNotFound
SchemaValidationFailedWrite ServiceAlreadyExists ServiceCommandNotFound ServiceNotFound
ServiceTypeNotFound TwilioError UserAlreadyConfirmed UserAppDomainMismatch UserDisabled
UserNotFound UserpassTokenInvalid InvalidServerResponse ValueAlreadyExists ValueDuplicateName
ValueNotFound
""".split())


def test_every_code_has_an_entry() -> None:
    assert set(CODES) == set(ErrorCode)
    for code, doc in CODES.items():
        assert doc.meaning.endswith("."), code
        assert doc.origin in (APP_SERVICES, LATCHKEY, CLIENT), code


def test_codes_we_call_app_services_codes_are_known_to_native_sdks() -> None:
    for code, doc in CODES.items():
        known = code.value in REALM_CORE_SERVICE_CODES
        assert known == (doc.origin == APP_SERVICES), (code, doc.origin)


def test_the_page_lists_every_code(api: Api) -> None:
    resp = api.http.get(DOCS_PATH)
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in resp.headers["content-security-policy"]
    for code, doc in CODES.items():
        assert f'<tr id="{code.value}">' in resp.text
        assert doc.status in resp.text
    assert "<script" not in resp.text


def test_error_links_point_at_the_page_on_this_server(api: Api) -> None:
    # In-process, the served address is the test client's.
    body = assert_error(api.profile(None), 401, "MissingAuthReq")
    assert body["link"] == "http://testserver/docs/errors#MissingAuthReq"
    body = assert_error(api.http.get("/api/client/v2.0/nope"), 404, "NotFound")
    assert body["link"] == "http://testserver/docs/errors#NotFound"
    body = assert_error(api.http.put(routes.session()), 405, "MethodNotAllowed")
    assert body["link"] == "http://testserver/docs/errors#MethodNotAllowed"


def test_public_url_is_the_base_when_set(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", {"public_url": "https://auth.example.com/"})
    with TestClient(create_app(settings)) as client:
        body = assert_error(Api(client).log_in("nobody@example.com"), 401, "InvalidPassword")
        assert body["link"] == "https://auth.example.com/docs/errors#InvalidPassword"
        preflight = client.options(routes.login(APP_ID, "anon-user"), headers={
            "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        body = assert_error(preflight, 403, "DomainNotAllowed")
        assert body["link"] == "https://auth.example.com/docs/errors#DomainNotAllowed"


def test_live_links_name_the_serving_address_and_resolve(live_server) -> None:
    base = live_server.base_url
    with httpx.Client(base_url=base) as http:
        resp = http.post(routes.login(APP_ID, "local-userpass"), headers={"Host": "evil.example"},
                         json={"username": "nobody@example.com", "password": "wrong-password"})
        body = assert_error(resp, 401, "InvalidPassword")
        assert body["link"] == f"{base}/docs/errors#InvalidPassword"
        assert "evil.example" not in resp.text
        page, anchor = body["link"].split("#")
        docs = httpx.get(page)
        assert docs.status_code == 200 and f'id="{anchor}"' in docs.text


@pytest.mark.parametrize("path", ["/docs/errors", "/docs/errors/"])
def test_the_page_needs_no_app_id_or_token(api: Api, path: str) -> None:
    resp = api.http.get(path, follow_redirects=True)
    assert resp.status_code == 200 and "InvalidSession" in resp.text
