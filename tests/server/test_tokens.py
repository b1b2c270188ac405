"""The server's own HS256 tokens (``server.services.tokens``) against PyJWT, in both directions:
what we sign PyJWT accepts, and what PyJWT signs or refuses we accept or refuse alike."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest

from server.services.tokens import TokenError, TokenSigner

from .helpers import Api, assert_error

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


# Issue 16, item 11: one spelling per token, integer times.

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _same_bytes_other_spelling(segment: str) -> str:
    # A 32-byte HMAC takes 43 characters, and the last one carries two unused bits: flipping
    # one of them spells the same bytes differently.
    last = _ALPHABET.index(segment[-1])
    return segment[:-1] + _ALPHABET[last ^ 1]


def _signed(head: str, body: str, key: str = KEY) -> str:
    sig = hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"


def _non_canonical_signatures() -> list[str]:
    token = _pyjwt(_claims())
    head, body, sig = token.split(".")
    assert base64.urlsafe_b64decode(sig + "=") == \
        base64.urlsafe_b64decode(_same_bytes_other_spelling(sig) + "=")
    variants = [sig + "=", sig + "==", _same_bytes_other_spelling(sig), sig + " ", " " + sig,
                sig[:10] + "!" + sig[10:], sig + "\n"]
    # The standard alphabet's + and / decode like - and _ in Python's urlsafe decoder.
    std = sig.replace("-", "+").replace("_", "/")
    if std != sig:
        variants.append(std)
    return [f"{head}.{body}.{v}" for v in variants]


def _non_canonical_payloads() -> list[str]:
    head = _b64({"alg": "HS256", "typ": "JWT"})
    claims = _claims()
    body = _b64(claims)
    padded = body + "=" * (-len(body) % 4)
    tokens = [_signed(head, padded)] if padded != body else []
    # Find a payload whose encoding has unused bits, then spell it another way; signed with the
    # right key, so only the spelling is wrong.
    for pad in range(3):
        claims["x"] = "y" * pad
        body = _b64(claims)
        if len(body) % 4:
            tokens.append(_signed(head, _same_bytes_other_spelling(body)))
            break
    tokens.append(_signed(head + "=", _b64(_claims())) if len(head) % 4 else
                  _signed(head.replace("J", "J\t", 1), _b64(_claims())))
    return tokens


def test_the_canonical_forms_verify() -> None:
    signer = TokenSigner(KEY, APP)
    assert signer.verify(_pyjwt(_claims()), "access").sub == "u1"
    head = _b64({"alg": "HS256", "typ": "JWT"})
    assert signer.verify(_signed(head, _b64(_claims())), "access").sub == "u1"


@pytest.mark.parametrize("token", _non_canonical_signatures() + _non_canonical_payloads())
def test_non_canonical_base64url_is_refused(token: str) -> None:
    with pytest.raises(TokenError, match="^invalid token$"):
        TokenSigner(KEY, APP).verify(token, "access")


_LATER = int(time.time()) + 3600
_EARLIER = int(time.time()) - 60


@pytest.mark.parametrize("claims", [
    _claims(exp=str(_LATER)), _claims(exp=float(_LATER)), _claims(exp=1e308),
    _claims(exp=True), _claims(exp=2**70), _claims(exp=[_LATER]), _claims(exp={"t": _LATER}),
    _claims(iat=str(_EARLIER)), _claims(iat=float(_EARLIER)), _claims(iat=False),
    _claims(iat=-1), _claims(iat=-(2**70)),
    _claims(nbf=str(_EARLIER)), _claims(nbf=float(_EARLIER)), _claims(nbf=False),
    _claims(nbf=-5), _claims(exp=253_402_300_800),
])
def test_times_must_be_integers_in_range(claims: dict[str, Any]) -> None:
    with pytest.raises(TokenError, match="^invalid token$"):
        TokenSigner(KEY, APP).verify(_pyjwt(claims), "access")


def test_times_at_the_edges_of_the_range_verify() -> None:
    signer = TokenSigner(KEY, APP)
    assert signer.verify(_pyjwt(_claims(exp=253_402_300_799, iat=0, nbf=0)), "access").exp \
        == 253_402_300_799


def test_the_server_refuses_other_spellings_of_its_tokens(api: Api) -> None:
    tokens = api.anon_ok()
    access, refresh = tokens["access_token"], tokens["refresh_token"]
    assert api.profile(access).status_code == 200
    for other in (access + "=", _same_bytes_other_spelling(access)):
        assert_error(api.profile(other), 401, "InvalidSession", "invalid session: invalid token")
    for other in (refresh + "=", _same_bytes_other_spelling(refresh)):
        assert_error(api.refresh(other), 401, "InvalidSession")
        assert_error(api.log_out(other), 401, "InvalidSession")
    assert api.refresh(refresh).status_code == 201
