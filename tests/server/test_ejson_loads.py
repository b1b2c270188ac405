"""``server.ejson.loads`` decodes text without EJSON wrappers on a fast path (no per-object
hook): the values and their types must be exactly those of the full decoder, and a wrapper
spelled with an escaped ``$`` must still be read as one."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bson import Int64, ObjectId

from server import ejson


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return (type(value).__name__, value)


@pytest.mark.parametrize("text", [
    '{"name": "translate", "arguments": ["hello", "en_fr", 5, 2.5, true, null, {"a": []}]}',
    '"caf\u00e9"', "[-0.0, 1e300, -9223372036854775808]", "{}",
])
def test_plain_json_decodes_as_json_does(text: str) -> None:
    for given in (text, text.encode(), text.encode("utf-16")):
        assert _typed(ejson.loads(given)) == _typed(json.loads(given))


def test_escaped_dollar_keys_are_still_wrappers() -> None:
    assert type(ejson.loads('{"a": {"\\u0024numberLong": "7"}}')["a"]) is Int64
    oid = ejson.loads('{"\\u0024oid": "5f0c0a0a0a0a0a0a0a0a0a0a"}'.encode("utf-16"))
    assert oid == ObjectId("5f0c0a0a0a0a0a0a0a0a0a0a")


@pytest.mark.parametrize("text", ["[NaN]", "[1e400]", "[9223372036854775808]", "\ufeff[]"])
def test_plain_json_keeps_the_checks(text: str) -> None:
    with pytest.raises(ValueError):
        ejson.loads(text)
