"""The server's own HS256 tokens (``server.services.tokens``) against PyJWT, in both directions:
what we sign PyJWT accepts, and what PyJWT signs or refuses we accept or refuse alike."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest

from server.services.tokens import TokenError, TokenSigner

KEY = "k" * 64
APP = "latchkey-demo"


def _claims(**extra: Any) -> dict[str, Any]:
    # Valid for an hour: parametrised tokens are made at collection, minutes before they run.
    now = int(time.time())
    claims = {"exp": now + 3600, "iat": now, "sub": "u1", "typ": "access", "baas_id": "s1",
              "baas_device_id": "d1", "baas_app": APP, "jti": "j1", "user_data": {"a": [1]}}
    claims.update(extra)
    return {k: v for k, v in claims.items() if v is not None}


def _pyjwt(claims: dict[str, Any], key: str = KEY, **kw: Any) -> str:
    return jwt.encode(claims, key, algorithm=kw.pop("algorithm", "HS256"), **kw)


def test_our_tokens_are_pyjwt_tokens() -> None:
    signer = TokenSigner(KEY, APP)
    token = signer.access_token("u1", "s1", "d1", {"plan": "pro", "n": 1.5}, 60)
    raw = jwt.decode(token, KEY, algorithms=["HS256"])
    assert raw["sub"] == "u1" and raw["user_data"] == {"plan": "pro", "n": 1.5}
    # Same header bytes as PyJWT, so tokens from before and after the change look alike.
    assert token.split(".")[0] == _pyjwt(_claims()).split(".")[0]
    refresh = signer.refresh_token("u1", "s1", "d1", 60)
    assert jwt.decode(refresh, KEY, algorithms=["HS256"])["typ"] == "refresh"


def test_pyjwt_tokens_verify() -> None:
    claims = TokenSigner(KEY, APP).verify(_pyjwt(_claims()), "access")
    assert (claims.sub, claims.session_id, claims.device_id) == ("u1", "s1", "d1")


def _b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_b64(header)}.{_b64(claims)}."


@pytest.mark.parametrize("token", [
    _pyjwt(_claims(), key="x" * 64),                                  # another key
    _pyjwt(_claims(), algorithm="HS384"),                             # another algorithm
    _pyjwt(_claims(), algorithm="HS512"),
    _unsigned({"alg": "none", "typ": "JWT"}, _claims()),              # alg=none
    _unsigned({"alg": "HS256", "typ": "JWT"}, _claims()),             # no signature
    _pyjwt(_claims(), headers={"crit": ["exp"]}),                     # unknown critical header
    _pyjwt(_claims(iat=int(time.time()) + 3600)),                     # issued in the future
    _pyjwt(_claims(nbf=int(time.time()) + 3600)),                     # not valid yet
    _pyjwt(_claims(sub=None)), _pyjwt(_claims(iat=None)),             # required claims
    _pyjwt(_claims(exp=None)),
    _pyjwt(_claims(sub=5)), _pyjwt(_claims(jti=5)),                   # wrong claim types
    _pyjwt(_claims(exp="soon")),
    _pyjwt(_claims(aud="someone")),                                   # an audience
    "a.b", "a.b.c.d", "", "....", "é.é.é", _pyjwt(_claims()) + "x",    # malformed
    _b64([[[]]]) + "." + _b64({}) + ".",
    _b64("[" * 100_000) + ".e30.",                                    # nested too deep
])
def test_refused_as_invalid(token: str) -> None:
    with pytest.raises(TokenError, match="^invalid token$"):
        TokenSigner(KEY, APP).verify(token, "access")


def test_expired_and_wrong_type_and_app() -> None:
    signer = TokenSigner(KEY, APP)
    with pytest.raises(TokenError, match="^token expired$"):
        signer.verify(_pyjwt(_claims(exp=int(time.time()) - 1)), "access")
    with pytest.raises(TokenError, match="incorrect token type"):
        signer.verify(_pyjwt(_claims()), "refresh")
    with pytest.raises(TokenError, match="another app"):
        signer.verify(_pyjwt(_claims(baas_app="other")), "access")


def test_tampered_payload_is_refused() -> None:
    token = _pyjwt(_claims())
    head, _, sig = token.split(".")
    forged = f"{head}.{_b64(_claims(sub='admin'))}.{sig}"
    with pytest.raises(TokenError, match="^invalid token$"):
        TokenSigner(KEY, APP).verify(forged, "access")
