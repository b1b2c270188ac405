"""Property-based fuzz of every operation in the OpenAPI document, with schemathesis, against the
real server on loopback (uvicorn in a thread, the document fetched from its ``/openapi.json``).

Each operation gets generated requests in three runs:

1. ``valid``: requests that follow the document, with a live token for operations that need one
   (a fresh anonymous session, or for API keys a fresh session of a user that may own keys, and
   a real key id), so the fuzz gets past the token check to the body and the store;
2. ``invalid``: requests that break the document (wrong types, missing members, bodies that are
   not JSON, odd headers and parameters), with the live token;
3. ``invalid token``: the same with whatever token schemathesis makes up (operations that take
   a token only).

Every answer must be below 500; every 4xx must be the error JSON with ``Content-Type:
application/json`` exactly; and every answer must be what the document says (status, content
type, body schema, headers). After each operation the server must still answer a normal request.

Bounded for CI: ``FUZZ_EXAMPLES`` examples per run (``LATCHKEY_FUZZ_EXAMPLES`` overrides it), no
shrinking, no deadline, and derandomized: the same requests in the same order on every run, so
the suite is green or red for a reason, never by chance. A failure prints a ``curl`` command
that replays the request.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi import checks as openapi_checks

from app.sdk import routes
from server.openapi import build
from server.openapi.operations import ACCESS, OPERATIONS, OPTIONAL_ACCESS, REFRESH, Operation
from tests.conftest import LiveServer, make_settings, start_server

from .helpers import APP_ID

FUZZ_EXAMPLES = int(os.environ.get("LATCHKEY_FUZZ_EXAMPLES", "10"))
#: A custom-function user (the demo's ``authenticate`` function): not anonymous, so it may own
#: API keys, and logging in costs no password hash.
KEY_OWNER = {"username": "fuzz-key-owner", "secret": "v3ry-s3cret"}
PROVIDERS = (routes.ANON_USER, routes.LOCAL_USERPASS, routes.API_KEY, routes.CUSTOM_TOKEN,
             routes.CUSTOM_FUNCTION)
OVERRIDES: dict[str, Any] = {
    # Limits high enough that the fuzz reaches past them; test_ratelimit.py covers them.
    "security": {"login_attempts_per_address": 1_000_000, "login_failures_per_account": 1_000_000,
                 "mails_per_address": 1_000_000},
    "providers": {
        "custom-token": {"enabled": True, "algorithm": "HS256",
                         "signing_keys": ["fuzz-signing-key-of-at-least-32-bytes"]},
        # Google on a closed loopback port: the redirect flow starts without the network, and
        # nothing the fuzz can send gets as far as calling it.
        "oauth2-google": {"enabled": True, "client_id": "fuzz", "client_secret": "fuzz",
                          "authorization_endpoint": "http://127.0.0.1:9/auth",
                          "token_endpoint": "http://127.0.0.1:9/token",
                          "jwks_uri": "http://127.0.0.1:9/jwks"},
    },
    "oauth": {"redirect_uris": ["http://127.0.0.1:8000/"]},
}
CONFORMANCE = [
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
]


@dataclasses.dataclass
class Fuzz:
    """The live server, its schema as schemathesis loaded it, and a client for setup calls."""

    live: LiveServer
    schema: Any
    http: httpx.Client
    session: requests.Session

    def login(self, provider: str, body: dict[str, Any]) -> dict[str, str]:
        resp = self.http.post(routes.login(APP_ID, provider), json=body)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def token_for(self, op: Operation) -> str:
        """A live token of a fresh session for an operation that takes one."""
        if op.security == REFRESH:
            return self.login(routes.CUSTOM_FUNCTION, KEY_OWNER)["refresh_token"]
        return self.login(routes.ANON_USER, {})["access_token"]

    def new_key(self, refresh_token: str) -> str:
        resp = self.http.post(routes.api_keys(), json={"name": os.urandom(8).hex()},
                              headers={"Authorization": f"Bearer {refresh_token}"})
        assert resp.status_code == 201, resp.text
        return str(resp.json()["_id"])

    def drop_keys(self) -> None:
        """Delete the key owner's keys, so that each operation starts below the 20-key cap."""
        token = self.login(routes.CUSTOM_FUNCTION, KEY_OWNER)["refresh_token"]
        auth = {"Authorization": f"Bearer {token}"}
        for key in self.http.get(routes.api_keys(), headers=auth).json():
            self.http.delete(routes.api_key(key["_id"]), headers=auth)


@pytest.fixture(scope="module")
def fuzz(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fuzz]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz") / "data"
    live = start_server(make_settings(data_dir, OVERRIDES))
    try:
        schema = schemathesis.openapi.from_url(f"{live.base_url}/openapi.json")
        with httpx.Client(base_url=live.base_url, timeout=30) as http, \
                requests.Session() as session:
            yield Fuzz(live, schema, http, session)
    finally:
        live.stop()


def error_problem(status: int, headers: dict[str, list[str]], content: bytes) -> str | None:
    """What is wrong with a 4xx answer, or ``None`` when it is the error JSON."""
    types = headers.get("content-type") or headers.get("Content-Type") or []
    if types != ["application/json"]:
        return f"{status} with Content-Type {types}, not exactly application/json"
    try:
        body = json.loads(content)
    except ValueError:
        return f"{status} whose body is not JSON: {content[:200]!r}"
    fields = ("error", "error_code", "link")
    if not isinstance(body, dict) or not all(isinstance(body.get(f), str) and body[f]
                                             for f in fields):
        return f"{status} whose body is not {{error, error_code, link}}: {body!r}"
    return None


def known_issue(case: Any, status: int) -> str | None:
    """Failures that another branch fixes; the fuzz tolerates them until it lands.

    # remove when branch input lands: it answers 400 at every nesting depth of a body and 415
    # to every body that is not application/json.
    """
    return None


def check(case: Any, response: Any) -> None:
    """The fuzz's rules for one answer (see the module docstring)."""
    status = response.status_code
    replay = case.as_curl_command(headers=dict(response.request.headers))
    if known_issue(case, status):
        return
    assert status < 500, f"{status} {response.content[:300]!r}\nReplay: {replay}"
    if status >= 400:
        problem = error_problem(status, response.headers, response.content)
        assert problem is None, f"{problem}\nReplay: {replay}"
    case.validate_response(response, checks=CONFORMANCE)


def _settings(examples: int) -> Callable[[Any], Any]:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck), print_blob=False)


def run(fuzz: Fuzz, op: Operation, operation: Any, mode: GenerationMode, *,
        live_token: bool, path: dict[str, str], examples: int = FUZZ_EXAMPLES) -> int:
    """Send ``examples`` generated requests of one kind; the number sent."""
    sent = 0

    @_settings(examples)
    @given(case=operation.as_strategy(mode, path_parameters=path))
    def one(case: Any) -> None:
        nonlocal sent
        key_owner = None
        if live_token and op.security is not None:
            token = fuzz.token_for(op)
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
            key_owner = token if op.security == REFRESH else None
        if key_owner is not None and "{key_id}" in op.path and mode is GenerationMode.POSITIVE:
            case.path_parameters = {**case.path_parameters, "key_id": fuzz.new_key(key_owner)}
        response = case.call(base_url=fuzz.live.base_url, session=fuzz.session, timeout=30,
                             allow_redirects=False)
        sent += 1
        if os.environ.get("FUZZ_DEBUG"):
            print("FUZZ", op.operation_id, mode.value, live_token, path.get("provider", ""),
                  response.status_code, response.content[:100])
        check(case, response)

    try:
        one()
    except Unsatisfiable:
        # Nothing to break: every parameter is fixed or accepts any string (location).
        assert mode is GenerationMode.NEGATIVE and sent == 0
    return sent


def _still_serving(fuzz: Fuzz) -> None:
    resp = fuzz.http.get(routes.location(APP_ID))
    assert resp.status_code == 200 and resp.json()["hostname"] == fuzz.live.base_url
    session = fuzz.login(routes.ANON_USER, {})
    profile = fuzz.http.get(routes.profile(),
                            headers={"Authorization": f"Bearer {session['access_token']}"})
    assert profile.status_code == 200 and profile.json()["user_id"] == session["user_id"]


def _path_variants(op: Operation) -> list[dict[str, str]]:
    if "{app_id}" not in op.path:
        return [{}]
    if "{provider}" in op.path and op.method == "post":
        return [{"app_id": APP_ID, "provider": name} for name in PROVIDERS]
    if "{provider}" in op.path:
        return [{"app_id": APP_ID, "provider": "oauth2-google"}, {"app_id": APP_ID}]
    return [{"app_id": APP_ID}]


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_fuzz_operation(fuzz: Fuzz, op: Operation) -> None:
    operation = fuzz.schema[op.path][op.method.upper()]
    fuzz.drop_keys()
    variants = _path_variants(op)
    # Spread the examples of the valid run over the path variants (providers, say).
    share = max(3, FUZZ_EXAMPLES // len(variants))
    sent = 0
    for path in variants:
        sent += run(fuzz, op, operation, GenerationMode.POSITIVE, live_token=True, path=path,
                    examples=share)
    sent += run(fuzz, op, operation, GenerationMode.NEGATIVE, live_token=True,
                path=variants[0])
    if op.security in (ACCESS, REFRESH, OPTIONAL_ACCESS):
        sent += run(fuzz, op, operation, GenerationMode.NEGATIVE, live_token=False,
                    path=variants[0])
    assert sent > 0
    _still_serving(fuzz)


def test_the_document_served_is_the_one_in_the_code(fuzz: Fuzz) -> None:
    assert fuzz.schema.raw_schema == build(APP_ID, fuzz.live.base_url)
