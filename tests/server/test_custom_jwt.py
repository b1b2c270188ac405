"""The ``custom-token`` provider: HS256, RS256 and ES256 tokens, claims, metadata fields, and a
JWKS served by a real HTTP server on loopback with a rotated key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from server.settings import ConfigError
from tests.conftest import APP_ID, LiveServer, make_settings

from .auth_helpers import LiveApi, assert_error

SECRET = "2k66QfKeTRk3MdZ5vpDYgZCu2k66QfKeTRk3MdZ5vpDYgZCu"
NEXT_SECRET = "a-rotated-shared-secret-of-more-than-32-bytes!!"
FAR = 4070908800  # 2099
METADATA = [{"name": "mySecretField", "field_name": "secret", "required": True}]


def provider(**cfg: Any) -> dict[str, Any]:
    base = {"enabled": True, "algorithm": "HS256", "signing_keys": [SECRET], "audience": "",
            "metadata_fields": METADATA}
    return {"providers": {"custom-token": {**base, **cfg}}}


def token(key: Any = SECRET, algorithm: str = "HS256", headers: dict[str, Any] | None = None,
          **claims: Any) -> str:
    body = {"sub": "jwt-user-1", "aud": APP_ID, "exp": FAR, "iat": int(time.time()),
            "mySecretField": "s3cret"}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    return str(jwt.encode(body, key, algorithm=algorithm, headers=headers))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hmac_token(secret: bytes) -> str:
    head = _b64(b'{"alg":"HS256","typ":"JWT"}')
    body = _b64(json.dumps({"sub": "jwt-user-1", "exp": FAR, "mySecretField": "x"}).encode())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


def pem(public_key: Any) -> str:
    return str(public_key.public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo).decode())


@pytest.fixture
def start(server_factory: Callable[..., LiveServer]) -> Iterator[Callable[..., LiveApi]]:
    clients: list[LiveApi] = []

    def start(overrides: dict[str, Any]) -> LiveApi:
        client = LiveApi(server_factory(overrides))
        clients.append(client)
        return client

    yield start
    for client in clients:
        client.close()


def _refused(wire: LiveApi, tok: str, reason: str) -> None:
    resp = wire.login_raw("custom-token", {"token": tok})
    assert_error(resp, 401, "AuthError", f"invalid custom auth token: {reason}")


def test_template_login_copies_metadata(start: Callable[..., LiveApi]) -> None:
    wire = start(provider())
    session = wire.login("custom-token", {"token": token()})
    profile = wire.profile(session["access_token"])
    assert profile["data"] == {"secret": "s3cret"}
    assert profile["type"] == "normal"
    assert [(i["provider_type"], i["id"]) for i in profile["identities"]] == [
        ("custom-token", "jwt-user-1")]
    again = wire.login("custom-token", {"token": token(mySecretField="changed")})
    assert again["user_id"] == session["user_id"]
    assert wire.profile(again["access_token"])["data"] == {"secret": "changed"}
    other = wire.login("custom-token", {"token": token(sub="jwt-user-2")})
    assert other["user_id"] != session["user_id"]


@pytest.mark.parametrize("claims, reason", [
    ({"exp": 1516239022, "iat": 1516239000}, "token expired"),
    ({"nbf": FAR - 10}, "token not yet valid"),
    ({"iat": FAR - 10}, "token not yet valid"),
    ({"exp": None}, "token lacks the 'exp' claim"),
    ({"sub": None}, "token lacks the 'sub' claim"),
    ({"sub": ""}, "'sub' must be a non-empty string"),
    ({"mySecretField": None}, "required metadata field 'mySecretField' is missing"),
])
def test_bad_claims(start: Callable[..., LiveApi], claims: Any, reason: Any) -> None:
    _refused(start(provider()), token(**claims), reason)


def test_signature_and_algorithm(start: Callable[..., LiveApi]) -> None:
    wire = start(provider())
    _refused(wire, token(key="another-key-that-is-long-enough-for-hs256!"),
             "signature verification failed")
    header = _b64(b'{"alg":"none","typ":"JWT"}')
    payload = _b64(json.dumps({"sub": "jwt-user-1", "exp": FAR, "mySecretField": "x"}).encode())
    _refused(wire, f"{header}.{payload}.", "tokens must be signed with HS256")
    _refused(wire, f"{header}.{payload}.c2ln", "tokens must be signed with HS256")
    _refused(wire, token(key=SECRET * 2, algorithm="HS512"), "tokens must be signed with HS256")
    _refused(wire, "not-a-jwt", "malformed token")
    head, _, sig = token().split(".")
    forged = _b64(json.dumps({"sub": "admin", "exp": FAR, "mySecretField": "x"}).encode())
    _refused(wire, f"{head}.{forged}.{sig}", "signature verification failed")
    assert_error(wire.login_raw("custom-token", {}), 400, "MissingParameter")


def test_audience_when_configured(start: Callable[..., LiveApi]) -> None:
    wire = start(provider(audience="my-audience"))
    _refused(wire, token(), "token is for another audience")
    _refused(wire, token(aud=None), "token lacks the 'aud' claim")
    assert wire.login("custom-token", {"token": token(aud="my-audience")})["user_id"]
    assert wire.login("custom-token", {"token": token(aud=["x", "my-audience"])})["user_id"]


def test_audience_ignored_when_empty(start: Callable[..., LiveApi]) -> None:
    wire = start(provider())
    assert wire.login("custom-token", {"token": token(aud="whatever")})["user_id"]
    assert wire.login("custom-token", {"token": token(aud=None)})["user_id"]


def test_several_signing_keys_allow_rotation(start: Callable[..., LiveApi]) -> None:
    wire = start(provider(signing_keys=[SECRET, NEXT_SECRET]))
    first = wire.login("custom-token", {"token": token()})
    second = wire.login("custom-token", {"token": token(key=NEXT_SECRET)})
    assert first["user_id"] == second["user_id"]


def test_secret_from_the_environment(start: Callable[..., LiveApi],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LATCHKEY_TEST_JWT_SECRET", NEXT_SECRET)
    wire = start(provider(signing_keys=[], signing_key_env="LATCHKEY_TEST_JWT_SECRET"))
    assert wire.login("custom-token", {"token": token(key=NEXT_SECRET)})["user_id"]
    _refused(wire, token(), "signature verification failed")


def test_nested_and_optional_metadata(start: Callable[..., LiveApi]) -> None:
    fields = [
        {"name": "profile.contact.email", "required": True},
        {"name": "profile.name", "field_name": "name"},
        {"name": "https://example.com/roles", "field_name": "roles"},
        {"name": "favorite", "required": False},
    ]
    wire = start(provider(metadata_fields=fields))
    claims: dict[str, Any] = {
        "profile": {"name": "Ada", "contact": {"email": "ada@example.com"}},
              "https://example.com/roles": ["admin"]}
    session = wire.login("custom-token", {"token": token(**claims)})
    assert wire.profile(session["access_token"])["data"] == {
        "email": "ada@example.com", "name": "Ada", "roles": ["admin"]}
    _refused(wire, token(profile={"name": "Ada"}),
             "required metadata field 'profile.contact.email' is missing")


def test_rs256_with_a_public_key(start: Callable[..., LiveApi]) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wire = start(provider(algorithm="RS256", signing_keys=[], public_key=pem(key.public_key())))
    assert wire.login("custom-token", {"token": token(key, "RS256")})["user_id"]
    _refused(wire, token(other, "RS256"), "signature verification failed")
    # Algorithm confusion: the public key used as an HMAC secret (PyJWT refuses to make such a
    # token, so the attacker's tool is spelled out here).
    _refused(wire, _hmac_token(pem(key.public_key()).encode()), "tokens must be signed with RS256")


def test_es256_with_a_public_key_file(start: Callable[..., LiveApi], tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "issuer.pem"
    path.write_text(pem(key.public_key()))
    wire = start(provider(algorithm="ES256", signing_keys=[], public_key_file=str(path)))
    assert wire.login("custom-token", {"token": token(key, "ES256")})["user_id"]
    _refused(wire, token(ec.generate_private_key(ec.SECP256R1()), "ES256"),
             "signature verification failed")


class JwksServer:
    """A JWKS document on a real loopback HTTP server; ``keys`` can be swapped at any time."""

    def __init__(self) -> None:
        self.keys: list[dict[str, Any]] = []
        self.fetches = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                owner.fetches += 1
                body = json.dumps({"keys": owner.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def jwk(private_key: Any, kid: str, alg: str) -> dict[str, Any]:
    cls = RSAAlgorithm if alg == "RS256" else ECAlgorithm
    return {**cls.to_jwk(private_key.public_key(), as_dict=True), "kid": kid, "alg": alg,
            "use": "sig"}


@pytest.fixture
def jwks() -> Iterator[JwksServer]:
    server = JwksServer()
    yield server
    server.close()


def test_jwks_with_caching_and_key_rotation(start: Callable[..., LiveApi],
                                            jwks: JwksServer) -> None:
    old = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwks.keys = [jwk(old, "old", "RS256"), jwk(ec_key, "ec", "ES256")]
    wire = start(provider(algorithm="RS256", signing_keys=[], jwks_url=jwks.url,
                         jwks_min_refetch_seconds=0))
    first = wire.login("custom-token", {"token": token(old, "RS256", {"kid": "old"})})
    wire.login("custom-token", {"token": token(old, "RS256", {"kid": "old"})})
    assert jwks.fetches == 1, "the key set is cached"
    # An ES256 key in the set does not verify RS256 tokens, whatever the token's kid says.
    _refused(wire, token(ec_key, "ES256", {"kid": "ec"}), "tokens must be signed with RS256")
    jwks.keys = [jwk(new, "new", "RS256")]
    rotated = wire.login("custom-token", {"token": token(new, "RS256", {"kid": "new"})})
    assert rotated["user_id"] == first["user_id"]
    assert jwks.fetches == 2, "an unknown kid fetches the set again"
    _refused(wire, token(old, "RS256", {"kid": "old"}), "signature verification failed")
    # Without a kid, every key of the set is tried.
    assert wire.login("custom-token", {"token": token(new, "RS256")})["user_id"]


def test_jwks_unknown_kids_do_not_refetch_too_often(start: Callable[..., LiveApi],
                                                    jwks: JwksServer) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwks.keys = [jwk(key, "k1", "RS256")]
    wire = start(provider(algorithm="RS256", signing_keys=[], jwks_url=jwks.url))
    assert wire.login("custom-token", {"token": token(key, "RS256", {"kid": "k1"})})["user_id"]
    for n in range(5):
        _refused(wire, token(key, "RS256", {"kid": f"made-up-{n}"}),
                 "signature verification failed")
    assert jwks.fetches == 1


def test_jwks_unreachable(start: Callable[..., LiveApi], jwks: JwksServer) -> None:
    url = jwks.url
    jwks.close()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    wire = start(provider(algorithm="RS256", signing_keys=[], jwks_url=url))
    resp = wire.login_raw("custom-token", {"token": token(key, "RS256", {"kid": "k1"})})
    assert_error(resp, 502, "InternalServerError")
    assert wire.login("anon-user", {})["user_id"], "the server keeps serving"


def test_provider_is_off_in_the_demo_config(live_server: LiveServer) -> None:
    wire = LiveApi(live_server)
    try:
        assert_error(wire.login_raw("custom-token", {"token": token()}), 404,
                     "AuthProviderNotFound")
    finally:
        wire.close()


@pytest.mark.parametrize("cfg, message", [
    ({"signing_keys": ["too-short"]}, "at least 32 bytes"),
    ({"signing_keys": []}, "needs signing_keys or signing_key_env"),
    ({"signing_key_env": "LATCHKEY_NO_SUCH_VARIABLE"}, "is not set"),
    ({"algorithm": "none"}, "algorithm must be one of"),
    ({"algorithm": "RS256"}, "exactly one of"),
    ({"algorithm": "RS256", "public_key": "not a key"}, "not a valid RS256 key"),
    ({"algorithm": "RS256", "jwks_url": "file:///etc/passwd"}, "http(s) URL"),
    ({"algorithm": "RS256", "public_key_file": "missing.pem"}, "Cannot read"),
    ({"metadata_fields": [{"field_name": "x"}]}, "needs a claim name"),
    ({"audience": 5}, "string or a list of strings"),
    ({"leeway_seconds": -1}, "0 or more"),
])
def test_config_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cfg: Any,
                       message: Any) -> None:
    monkeypatch.delenv("LATCHKEY_NO_SUCH_VARIABLE", raising=False)
    with pytest.raises(ConfigError) as err:
        make_settings(tmp_path, provider(**cfg))
    assert message in str(err.value)


def test_config_refuses_a_private_key(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    with pytest.raises(ConfigError, match="private key"):
        make_settings(tmp_path, provider(algorithm="RS256", public_key=private))


def test_claims_with_a_nul_character_are_refused_on_both_stores(
        start: Callable[..., LiveApi]) -> None:
    # Found in review: PostgreSQL cannot store NUL; SQLite could, so the two stores differed
    # (a 500 InternalServerError on PostgreSQL).
    wire = start(provider())
    _refused(wire, token(sub="jwt\x00user"), "the token's claims hold a NUL character")
    _refused(wire, token(mySecretField="s3\x00cret"), "the token's claims hold a NUL character")
    assert wire.login("custom-token", {"token": token()})["user_id"]
