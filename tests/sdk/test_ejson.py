"""Tier (a): the EJSON codec, canonical out, canonical or relaxed in."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.sdk import ejson
from app.sdk.ejson import ObjectId


@pytest.mark.parametrize(
    ("value", "wire"),
    [
        (5, {"$numberInt": "5"}),
        (-(2**31), {"$numberInt": "-2147483648"}),
        (2**31, {"$numberLong": "2147483648"}),
        (2**63 - 1, {"$numberLong": "9223372036854775807"}),
        (1.5, {"$numberDouble": "1.5"}),
        (1.0, {"$numberDouble": "1.0"}),
        (float("inf"), {"$numberDouble": "Infinity"}),
        (float("-inf"), {"$numberDouble": "-Infinity"}),
        (True, True),
        (None, None),
        ("text", "text"),
        (
            datetime(2024, 1, 2, 3, 4, 5, 6000, tzinfo=UTC),
            {"$date": {"$numberLong": "1704164645006"}},
        ),
        (b"\x00\x01hi", {"$binary": {"base64": "AAFoaQ==", "subType": "00"}}),
        (ObjectId("65a0c0ffee0000000000aaaa"), {"$oid": "65a0c0ffee0000000000aaaa"}),
        (Decimal("1.10"), {"$numberDecimal": "1.10"}),
    ],
)
def test_canonical_encoding_round_trips(value: object, wire: object) -> None:
    assert ejson.encode(value) == wire
    assert ejson.decode(wire) == value
    assert ejson.loads(ejson.dumps(value)) == value


def test_nested_values_are_encoded_recursively() -> None:
    value = {"a": [1, {"b": 2.5}], "c": (True, "x")}
    assert ejson.encode(value) == {
        "a": [{"$numberInt": "1"}, {"b": {"$numberDouble": "2.5"}}],
        "c": [True, "x"],
    }


def test_nan_and_negative_zero() -> None:
    assert ejson.encode(float("nan")) == {"$numberDouble": "NaN"}
    assert math.isnan(ejson.decode({"$numberDouble": "NaN"}))
    assert str(ejson.decode(ejson.encode(-0.0))) == "-0.0"


def test_naive_datetimes_count_as_utc_and_offsets_are_respected() -> None:
    naive = datetime(1970, 1, 1, 0, 0, 1)
    assert ejson.encode(naive) == {"$date": {"$numberLong": "1000"}}
    plus_one = datetime(1970, 1, 1, 1, 0, 1, tzinfo=timezone(timedelta(hours=1)))
    assert ejson.encode(plus_one) == {"$date": {"$numberLong": "1000"}}
    before_epoch = datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert ejson.decode(ejson.encode(before_epoch)) == before_epoch


def test_relaxed_forms_are_decoded() -> None:
    assert ejson.decode(5) == 5 and ejson.decode(1.5) == 1.5
    iso = {"$date": "2024-01-02T03:04:05Z"}
    assert ejson.decode(iso) == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert ejson.decode({"$date": 1000}) == datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert ejson.decode({"$binary": "aGk=", "$type": "00"}) == b"hi"


def test_relaxed_encoding_keeps_plain_numbers() -> None:
    assert ejson.encode({"n": 5, "f": 1.5, "big": 2**40}, relaxed=True) == {
        "n": 5,
        "f": 1.5,
        "big": 2**40,
    }
    assert ejson.encode(float("inf"), relaxed=True) == {"$numberDouble": "Infinity"}


def test_objects_that_merely_contain_dollar_keys_stay_objects() -> None:
    value = {"$numberInt": "5", "other": {"$numberInt": "6"}}
    assert ejson.decode(value) == {"$numberInt": "5", "other": 6}
    assert ejson.decode({"$unknown": "x"}) == {"$unknown": "x"}


@pytest.mark.parametrize(
    "wire",
    [
        {"$numberInt": 5},
        {"$numberInt": "five"},
        {"$oid": "xyz"},
        {"$binary": {"base64": "!!!", "subType": "00"}},
        {"$numberDecimal": "abc"},
        {"$date": "not a date"},
    ],
)
def test_malformed_wrappers_raise_value_error(wire: object) -> None:
    with pytest.raises(ValueError):
        ejson.decode(wire)


def test_unencodable_values_raise() -> None:
    with pytest.raises(ValueError, match="64 bits"):
        ejson.encode(2**63)
    with pytest.raises(TypeError, match="set"):
        ejson.encode({1, 2})
    with pytest.raises(TypeError, match="keys must be strings"):
        ejson.encode({1: "a"})


def test_dumps_is_compact_canonical_json() -> None:
    assert json.loads(ejson.dumps({"age": 30})) == {"age": {"$numberInt": "30"}}
    assert " " not in ejson.dumps({"a": [1, 2]})


def test_object_id_validation() -> None:
    assert ObjectId("65A0C0FFEE0000000000AAAA").hex == "65a0c0ffee0000000000aaaa"
    assert str(ObjectId("65a0c0ffee0000000000aaaa")) == "65a0c0ffee0000000000aaaa"
    with pytest.raises(ValueError, match="24 hex"):
        ObjectId("123")


@pytest.mark.parametrize(
    ("wire", "value"),
    [
        ({"$numberLong": "5"}, ejson.Int64(5)),
        ({"$numberLong": "-7"}, ejson.Int64(-7)),
        ({"$binary": {"base64": "OyQRAeK7QlWMr0E2xWapYg==", "subType": "04"}},
         uuid.UUID("3b241101-e2bb-4255-8caf-4136c566a962")),
        ({"$binary": {"base64": "AAE=", "subType": "04"}}, ejson.Binary(b"\x00\x01", 4)),
        ({"$binary": {"base64": "AAE=", "subType": "80"}}, ejson.Binary(b"\x00\x01", 0x80)),
        ({"$numberDouble": "2.0"}, 2.0),
        ({"$numberDecimal": "1.10"}, Decimal("1.10")),
    ],
)
def test_types_round_trip_exactly(wire: object, value: object) -> None:
    decoded = ejson.decode(wire)
    assert decoded == value and type(decoded) is type(value)
    assert ejson.encode(decoded) == wire
    assert ejson.decode({"nested": [wire]}) == {"nested": [value]}
    assert ejson.encode({"nested": [decoded]}) == {"nested": [wire]}


def test_int64_and_uuid_forms() -> None:
    assert ejson.encode(ejson.Int64(5), relaxed=True) == 5
    assert repr(ejson.Int64(5)) == "Int64(5)"
    assert ejson.decode({"$uuid": "3b241101-e2bb-4255-8caf-4136c566a962"}) == uuid.UUID(
        "3b241101-e2bb-4255-8caf-4136c566a962")
    legacy = {"$binary": "AAE=", "$type": "80"}
    assert ejson.decode(legacy) == ejson.Binary(b"\x00\x01", 0x80)
    with pytest.raises(ValueError, match="subtype"):
        ejson.Binary(b"", 256)
    with pytest.raises(ValueError, match="64 bits"):
        ejson.encode(ejson.Int64(2**63))
