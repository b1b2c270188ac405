"""Property-based fuzz of every operation in the OpenAPI document, with schemathesis, against the
real server on loopback (uvicorn in a thread, the document fetched from its ``/openapi.json``).

Each operation gets generated requests in three runs:

1. ``valid``: the document's examples, then requests that follow the document, with a live token
   for operations that need one (an anonymous session, or for API keys a session of a user that
   may own keys, and a real key id), so the fuzz gets past the token check to the body and the
   store;
2. ``invalid``: requests that break the document (wrong types, missing members, bodies that are
   not JSON, odd headers and parameters), with the live token;
3. ``invalid token``: the same with whatever token schemathesis makes up (operations that take
   a token only).

Two probes go beside it for every operation with a JSON body: the body as ``text/plain`` (415),
and nested hundreds of levels deep (an error, not a crash).

Every answer must be below 500; every 4xx must be the error JSON with ``Content-Type:
application/json`` exactly, with a status the operation lists; and every answer must be what the
document says (status, content type, body schema, headers). After each operation the server
must still answer a normal request.

Bounded for CI: ``FUZZ_EXAMPLES`` examples per run (``LATCHKEY_FUZZ_EXAMPLES`` overrides it), no
shrinking, no deadline, and derandomized: the same requests in the same order on every run, so
the suite is green or red for a reason, never by chance. (Hypothesis also mixes in constants
from the project's loaded modules, so a file run alone can draw other requests than the whole
suite; each command on one commit always draws the same.) A failure prints a ``curl`` command
that replays the request.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
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
from server.admin_api import paths as admin_paths
from server.openapi import build
from server.openapi.admin_schemas import ADMIN_REFRESH
from server.openapi.operations import ACCESS, OPERATIONS, REFRESH, Operation
from server.settings import SecuritySettings
from tests.conftest import LiveServer, make_settings, start_server

from .admin_helpers import ADMIN, fill, ids_for, make_admin_key
from .helpers import APP_ID

FUZZ_EXAMPLES = int(os.environ.get("LATCHKEY_FUZZ_EXAMPLES", "10"))
#: A custom-function user (the demo's ``authenticate`` function): not anonymous, so it may own
#: API keys, and logging in costs no password hash.
KEY_OWNER = {"username": "fuzz-key-owner", "secret": "v3ry-s3cret"}
REDIRECT = "http://127.0.0.1:8000/"
PROVIDERS = (routes.ANON_USER, routes.LOCAL_USERPASS, routes.API_KEY, routes.CUSTOM_TOKEN,
             routes.CUSTOM_FUNCTION)
#: Every per-address, per-account and per-identity limit that this server has, set high enough
#: that the fuzz (all from 127.0.0.1) reaches past them; ``test_ratelimit.py`` covers them.
LIMITS = {f.name: 10_000 for f in dataclasses.fields(SecuritySettings)
          if f.name.endswith(("_per_address", "_per_account", "_per_identity"))}
OVERRIDES: dict[str, Any] = {
    "security": LIMITS,
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
    "oauth": {"redirect_uris": [REDIRECT]},
}
CONFORMANCE = [
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.response_headers_conformance,
]
#: Operations whose success ends the session (or the user) of the token they were sent.
ENDS_SESSION = frozenset({"logOut", "deleteUser", "adminLogOut"})


@dataclasses.dataclass
class Fuzz:
    """The live server, its schema as schemathesis loaded it, a client for setup calls, and the
    sessions whose tokens the fuzz sends (kept while they live: logins are rate limited too)."""

    live: LiveServer
    schema: Any
    http: httpx.Client
    session: requests.Session
    sessions: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    keys_made: int = 0
    #: The public and private key of an admin key, for the Admin API's operations.
    admin_key: tuple[str, str] = ("", "")

    def login(self, provider: str, body: dict[str, Any]) -> dict[str, str]:
        resp = self.http.post(routes.login(APP_ID, provider), json=body)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    @staticmethod
    def kind(op: Operation) -> str:
        """Whose session an operation gets: API keys need a user that may own them; the Admin
        API an admin."""
        if op.security in ADMIN:
            return "admin"
        return "key owner" if op.path.startswith(routes.api_keys()) else "anonymous"

    def token_for(self, op: Operation) -> str:
        """A live token for an operation that takes one: access or refresh, as it needs."""
        kind = self.kind(op)
        if kind == "admin" and kind not in self.sessions:
            resp = self.http.post(admin_paths.LOGIN, json={"username": self.admin_key[0],
                                                           "apiKey": self.admin_key[1]})
            assert resp.status_code == 200, resp.text
            self.sessions[kind] = dict(resp.json())
        if kind not in self.sessions:
            self.sessions[kind] = (self.login(routes.CUSTOM_FUNCTION, KEY_OWNER)
                                   if kind == "key owner" else self.login(routes.ANON_USER, {}))
        refresh = op.security in (REFRESH, ADMIN_REFRESH)
        return self.sessions[kind]["refresh_token" if refresh else "access_token"]

    def answered(self, op: Operation, status: int) -> None:
        """Forget a session that the answer shows (or may show) to be over."""
        if status == 401 or op.operation_id in ENDS_SESSION:
            self.sessions.pop(self.kind(op), None)

    def new_key(self, refresh_token: str) -> str:
        self.keys_made += 1
        resp = self.http.post(routes.api_keys(), json={"name": f"fuzz key {self.keys_made}"},
                              headers={"Authorization": f"Bearer {refresh_token}"})
        assert resp.status_code == 201, resp.text
        return str(resp.json()["_id"])

    def drop_keys(self) -> None:
        """Delete the key owner's keys, so that each operation starts below the 20-key cap."""
        list_keys = next(op for op in OPERATIONS if op.operation_id == "listApiKeys")
        auth = {"Authorization": f"Bearer {self.token_for(list_keys)}"}
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
            key, private = make_admin_key(live.settings, "fuzz")
            yield Fuzz(live, schema, http, session, admin_key=(key.public_key, private))
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


def check(op: Operation, case: Any, response: Any) -> None:
    """The fuzz's rules for one answer (see the module docstring)."""
    status = response.status_code
    replay = case.as_curl_command(headers=dict(response.request.headers))
    assert status < 500, f"{status} {response.content[:300]!r}\nReplay: {replay}"
    if status >= 400:
        problem = error_problem(status, response.headers, response.content)
        assert problem is None, f"{problem}\nReplay: {replay}"
        # The operation lists it, not only its catch-all ``default``.
        assert status in op.errors, f"{status} is not documented for {op.operation_id}: " \
            f"{response.content[:300]!r}\nReplay: {replay}"
    case.validate_response(response, checks=CONFORMANCE)


def _settings(examples: int) -> Callable[[Any], Any]:
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                    phases=[Phase.explicit, Phase.generate],
                    suppress_health_check=list(HealthCheck), print_blob=False)


def run(fuzz: Fuzz, op: Operation, strategy: Any, *, live_token: bool, examples: int,
        real_key: bool = False) -> Counter[int]:
    """Send up to ``examples`` requests drawn from ``strategy``; the statuses answered."""
    statuses: Counter[int] = Counter()

    @_settings(examples)
    @given(case=strategy)
    def one(case: Any) -> None:
        if live_token and op.security is not None:
            token = fuzz.token_for(op)
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
            if real_key and "{key_id}" in op.path and op.security not in ADMIN:
                case.path_parameters = {**case.path_parameters, "key_id": fuzz.new_key(token)}
        response = case.call(base_url=fuzz.live.base_url, session=fuzz.session, timeout=30,
                             allow_redirects=False)
        statuses[response.status_code] += 1
        fuzz.answered(op, response.status_code)
        check(op, case, response)

    try:
        one()
    except Unsatisfiable:
        # Nothing to break: every parameter is fixed or takes any string (location).
        assert not statuses
    return statuses


def _still_serving(fuzz: Fuzz) -> None:
    resp = fuzz.http.get(routes.location(APP_ID))
    assert resp.status_code == 200 and resp.json()["hostname"] == fuzz.live.base_url
    session = fuzz.login(routes.ANON_USER, {})
    profile = fuzz.http.get(routes.profile(),
                            headers={"Authorization": f"Bearer {session['access_token']}"})
    assert profile.status_code == 200 and profile.json()["user_id"] == session["user_id"]


def variants(op: Operation) -> list[dict[str, Any]]:
    """Fixed parts of the valid runs' requests: this app, each provider worth reaching, and
    for a social login an allowed ``redirect`` page."""
    if "{group_id}" in op.path:
        group, app_object_id = ids_for(APP_ID)
        found = {"group_id": group, "app_object_id": app_object_id}
        return [{"path_parameters": {k: v for k, v in found.items() if "{" + k + "}" in op.path}}]
    if "{app_id}" not in op.path:
        return [{"path_parameters": {}}]
    app = {"app_id": APP_ID}
    if "{provider}" in op.path and op.method == "post":
        return [{"path_parameters": {**app, "provider": name}} for name in PROVIDERS]
    if "{provider}" in op.path:
        # Google starts a redirect; any other name gets its 404 or 405.
        return [{"path_parameters": {**app, "provider": "oauth2-google"},
                 "query": {"redirect": REDIRECT}},
                {"path_parameters": app}]
    return [{"path_parameters": app}]


def budget(op: Operation) -> int:
    """Examples per run: a third for the Admin API's operations, which share one token check and
    one group and app check (``server.admin_api.auth``) and are many, to keep the suite's time."""
    return max(3, FUZZ_EXAMPLES // 3) if op.security in ADMIN else FUZZ_EXAMPLES


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
def test_fuzz_operation(fuzz: Fuzz, op: Operation) -> None:
    operation = fuzz.schema[op.path][op.method.upper()]
    fuzz.drop_keys()
    fixed = variants(op)
    valid: Counter[int] = Counter()
    for parts in fixed:
        for example in op.examples.values():
            strategy = operation.as_strategy(GenerationMode.POSITIVE, body=example, **parts)
            valid += run(fuzz, op, strategy, live_token=True, examples=1, real_key=True)
        # The valid run's examples are shared among the variants (the providers, say).
        strategy = operation.as_strategy(GenerationMode.POSITIVE, **parts)
        valid += run(fuzz, op, strategy, live_token=True, real_key=True,
                     examples=max(3, budget(op) // len(fixed)))
    invalid = operation.as_strategy(GenerationMode.NEGATIVE,
                                    path_parameters=fixed[0]["path_parameters"])
    run(fuzz, op, invalid, live_token=True, examples=budget(op))
    if op.security is not None:
        run(fuzz, op, invalid, live_token=False, examples=budget(op))
    if op.security in (ACCESS, REFRESH, *ADMIN):
        # The live token got the fuzz past the token check.
        assert set(valid) - {401}, valid
    _still_serving(fuzz)


@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.body], ids=lambda op: op.operation_id)
def test_bodies_must_be_json(fuzz: Fuzz, op: Operation) -> None:
    """A body as ``text/plain`` (which any web page can send cross-origin without a preflight)
    is refused with 415 and the error JSON, before it is read."""
    path = fill(op.path)
    body = json.dumps(next(iter(op.examples.values()), {})).encode()
    headers = {"Content-Type": "text/plain"}
    if op.security is not None:
        headers["Authorization"] = f"Bearer {fuzz.token_for(op)}"
    resp = fuzz.http.request(op.method.upper(), path, content=body, headers=headers)
    fuzz.answered(op, resp.status_code)
    assert resp.status_code < 500, resp.text
    problem = error_problem(resp.status_code, {k: resp.headers.get_list(k) for k in resp.headers},
                            resp.content) if resp.status_code >= 400 else None
    assert problem is None, problem
    assert resp.status_code == 415, resp.text


@pytest.mark.parametrize("depth", [100, 600, 5000])
@pytest.mark.parametrize("op", [op for op in OPERATIONS if op.body], ids=lambda op: op.operation_id)
def test_deep_bodies_are_refused(fuzz: Fuzz, op: Operation, depth: int) -> None:
    """A documented example with a value nested ``depth`` levels deep inside (in ``arguments``
    where the body has them, since those reach the most code): never a 5xx, and the error JSON
    if it is refused."""
    example = dict(next(iter(op.examples.values()), {}))
    deep = "[" * depth + "]" * depth
    member = "arguments" if "arguments" in example else "deep"
    example[member] = "@DEEP@"
    body = json.dumps(example).replace('"@DEEP@"', f"[{deep}]" if member == "arguments" else deep)
    path = fill(op.path)
    headers = {"Content-Type": "application/json"}
    if op.security is not None:
        headers["Authorization"] = f"Bearer {fuzz.token_for(op)}"
    resp = fuzz.http.request(op.method.upper(), path, content=body.encode(), headers=headers)
    fuzz.answered(op, resp.status_code)
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        problem = error_problem(resp.status_code, {k: resp.headers.get_list(k)
                                                   for k in resp.headers}, resp.content)
        assert problem is None, problem


def test_the_document_served_is_the_one_in_the_code(fuzz: Fuzz) -> None:
    assert fuzz.schema.raw_schema == build(APP_ID, fuzz.live.base_url)
