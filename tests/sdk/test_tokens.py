"""Tier (a): reading JWT claims without verification, and validating login responses."""

from __future__ import annotations

import base64
import json

import pytest

from app.sdk import tokens
from app.sdk.tokens import AuthResponse

from .helpers import foreign_jwt


def test_decode_payload_reads_claims_without_verifying() -> None:
    token = foreign_jwt({"sub": "u1", "exp": 2000, "user_data": {"plan": "pro"}})
    assert tokens.decode_payload(token)["sub"] == "u1"
    assert tokens.custom_data(token) == {"plan": "pro"}
    assert tokens.expires_at(token) == 2000.0


def test_padding_and_standard_alphabet_are_accepted() -> None:
    raw = json.dumps({"sub": "ü>?"}).encode()
    padded = base64.b64encode(raw).decode()
    assert tokens.decode_payload(f"h.{padded}.s") == {"sub": "ü>?"}


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c.d", "a.!!!.c", "a.bnVsbA.c", "a.W10.c"])
def test_malformed_tokens_raise_value_error(token: str) -> None:
    with pytest.raises(ValueError):
        tokens.decode_payload(token)


def test_expiry_uses_a_leeway() -> None:
    token = foreign_jwt({"exp": 1000})
    assert tokens.is_expiring(token, now=995.0)
    assert tokens.is_expiring(token, now=1000.0)
    assert not tokens.is_expiring(token, now=980.0)


def test_tokens_without_readable_exp_count_as_fresh() -> None:
    assert not tokens.is_expiring("garbage", now=0)
    assert not tokens.is_expiring(foreign_jwt({"exp": "soon"}), now=0)
    assert not tokens.is_expiring(foreign_jwt({"exp": True}), now=0)
    assert tokens.expires_at(foreign_jwt({})) is None


def test_custom_data_defaults_to_empty() -> None:
    assert tokens.custom_data(foreign_jwt({})) == {}
    assert tokens.custom_data(foreign_jwt({"user_data": "nope"})) == {}


def test_device_id_claim() -> None:
    assert tokens.device_id(foreign_jwt({"baas_device_id": "a" * 24})) == "a" * 24
    assert tokens.device_id(foreign_jwt({"baas_device_id": "0" * 24})) is None
    assert tokens.device_id("garbage") is None


def test_auth_response_validation() -> None:
    body = {"user_id": "u", "access_token": "a", "refresh_token": "r", "device_id": "d"}
    assert AuthResponse.from_json(body) == AuthResponse("u", "a", "r", "d")
    link = {k: v for k, v in body.items() if k != "refresh_token"}
    assert AuthResponse.from_json(link, require_refresh_token=False).refresh_token is None
    with pytest.raises(ValueError, match="refresh token"):
        AuthResponse.from_json(link)
    with pytest.raises(ValueError, match="device_id"):
        AuthResponse.from_json({**body, "device_id": None})
    with pytest.raises(ValueError, match="JSON object"):
        AuthResponse.from_json([])


def test_parse_access_token() -> None:
    assert tokens.parse_access_token({"access_token": "t"}) == "t"
    with pytest.raises(ValueError, match="access_token"):
        tokens.parse_access_token({})
