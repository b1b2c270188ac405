"""A tiny Extended JSON (EJSON) codec: canonical on the way out, canonical or relaxed on the way in.

realm-web serialises every request body as *canonical* EJSON (protocol section 1.4), so this SDK
does the same: ``int`` becomes ``$numberInt`` or ``$numberLong``, ``float`` becomes
``$numberDouble``, ``datetime`` becomes ``$date``, ``bytes`` becomes ``$binary`` and
``ObjectId`` becomes ``$oid``. Responses may use either form; ``decode`` accepts both.

Types round-trip: a ``$numberLong`` decodes to ``Int64`` (an ``int`` that encodes as
``$numberLong`` again, however small), a subtype 4 ``$binary`` of 16 bytes to ``uuid.UUID``, any
other subtype but 0 to ``Binary(data, subtype)``, and each encodes back to the same wire value.

```python
>>> encode({"age": 30, "score": 1.5})
{'age': {'$numberInt': '30'}, 'score': {'$numberDouble': '1.5'}}
>>> decode({"age": {"$numberInt": "30"}, "score": 1.5})
{'age': 30, 'score': 1.5}
```

Standard library only.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HEX24 = re.compile(r"[0-9a-fA-F]{24}")


@dataclass(frozen=True, slots=True)
class ObjectId:
    """A BSON ObjectId, kept as its 24-character lowercase hex string.

    ```python
    ObjectId("65a0c0ffee0000000000aaaa").hex  # "65a0c0ffee0000000000aaaa"
    ```
    """

    hex: str

    def __post_init__(self) -> None:
        if not isinstance(self.hex, str) or not _HEX24.fullmatch(self.hex):
            raise ValueError(f"An ObjectId needs 24 hex characters, got {self.hex!r}.")
        object.__setattr__(self, "hex", self.hex.lower())

    @staticmethod
    def is_valid(value: object) -> bool:
        """Whether ``value`` is a 24-character hex string."""
        return isinstance(value, str) and _HEX24.fullmatch(value) is not None

    def __str__(self) -> str:
        return self.hex


class Int64(int):
    """A BSON 64-bit integer: encodes as ``$numberLong`` even when it would fit in 32 bits.

    ```python
    encode(Int64(5))  # {"$numberLong": "5"}
    ```
    """

    def __repr__(self) -> str:
        return f"Int64({int(self)})"


@dataclass(frozen=True, slots=True)
class Binary:
    """BSON binary data of a subtype other than 0 (generic bytes) and 4 (a ``uuid.UUID``)."""

    data: bytes
    subtype: int

    def __post_init__(self) -> None:
        if not isinstance(self.subtype, int) or not 0 <= self.subtype <= 255:
            raise ValueError(f"A binary subtype is a number from 0 to 255, got {self.subtype!r}.")


def dumps(value: Any) -> str:
    """``value`` as canonical EJSON text."""
    return json.dumps(encode(value), allow_nan=False, separators=(",", ":"))


def loads(text: str) -> Any:
    """Python values from EJSON text in canonical or relaxed form."""
    return decode(json.loads(text))


def encode(value: Any, *, relaxed: bool = False) -> Any:
    """``value`` as a JSON-compatible tree in canonical EJSON form.

    With ``relaxed``, 64-bit integers and finite floats stay plain JSON numbers (the relaxed
    form, used for stored profiles so realm-web reads them as numbers too).
    Raises ``TypeError`` for values EJSON cannot represent and ``ValueError`` for integers
    beyond 64 bits.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Int64):
        _encode_int(value)  # The range check.
        return int(value) if relaxed else {"$numberLong": str(int(value))}
    if isinstance(value, int):
        plain = relaxed and INT64_MIN <= value <= INT64_MAX
        return value if plain else _encode_int(value)
    if isinstance(value, float):
        plain = relaxed and math.isfinite(value)
        return value if plain else {"$numberDouble": _double_text(value)}
    if isinstance(value, Mapping):
        return {_key(k): encode(v, relaxed=relaxed) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(item, relaxed=relaxed) for item in value]
    return _encode_special(value)


def _encode_int(value: int) -> dict[str, str]:
    if INT32_MIN <= value <= INT32_MAX:
        return {"$numberInt": str(value)}
    if INT64_MIN <= value <= INT64_MAX:
        return {"$numberLong": str(value)}
    raise ValueError(f"The integer {value} does not fit in 64 bits, so EJSON cannot carry it.")


def _double_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"EJSON object keys must be strings, got {type(key).__name__}.")
    return key


def _encode_special(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        millis = (aware - _EPOCH) // timedelta(milliseconds=1)
        return {"$date": {"$numberLong": str(millis)}}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _binary(bytes(value), 0)
    if isinstance(value, uuid.UUID):
        return _binary(value.bytes, 4)
    if isinstance(value, Binary):
        return _binary(value.data, value.subtype)
    if isinstance(value, ObjectId):
        return {"$oid": value.hex}
    if isinstance(value, Decimal):
        return {"$numberDecimal": str(value)}
    raise TypeError(f"EJSON cannot encode a value of type {type(value).__name__}.")


def _binary(data: bytes, subtype: int) -> dict[str, Any]:
    text = base64.b64encode(data).decode("ascii")
    return {"$binary": {"base64": text, "subType": f"{subtype:02x}"}}


def decode(value: Any) -> Any:
    """Python values from a JSON tree in canonical or relaxed EJSON form.

    Type wrappers (``{"$numberInt": "5"}`` ...) become ``int``, ``Int64``, ``float``,
    ``datetime`` (UTC), ``bytes``, ``uuid.UUID``, ``Binary``, ``ObjectId`` or ``Decimal``; a
    malformed wrapper raises ``ValueError``. Objects
    that merely contain ``$`` keys among others are ordinary objects.
    """
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((name, inner),) = value.items()
        decoder = _WRAPPERS.get(name)
        if decoder is not None:
            return decoder(inner)
    if len(value) == 2 and "$binary" in value and "$type" in value:
        return _decode_binary({"base64": value["$binary"], "subType": value["$type"]})
    return {key: decode(item) for key, item in value.items()}


def _text(inner: Any, name: str) -> str:
    if not isinstance(inner, str):
        raise ValueError(f"EJSON {name} expects a string, got {inner!r}.")
    return inner


def _decode_int(inner: Any) -> int:
    return int(_text(inner, "$numberInt"))


def _decode_long(inner: Any) -> Int64:
    return Int64(_text(inner, "$numberLong"))


def _decode_double(inner: Any) -> float:
    return float(_text(inner, "$numberDouble"))


def _decode_decimal(inner: Any) -> Decimal:
    try:
        return Decimal(_text(inner, "$numberDecimal"))
    except InvalidOperation as exc:
        raise ValueError(f"EJSON $numberDecimal is not a number: {inner!r}.") from exc


def _decode_oid(inner: Any) -> ObjectId:
    return ObjectId(_text(inner, "$oid"))


def _decode_date(inner: Any) -> datetime:
    if isinstance(inner, dict) and set(inner) == {"$numberLong"}:
        return _EPOCH + timedelta(milliseconds=_decode_long(inner["$numberLong"]))
    if isinstance(inner, (int, float)) and not isinstance(inner, bool):
        return _EPOCH + timedelta(milliseconds=inner)
    parsed = datetime.fromisoformat(_text(inner, "$date"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _decode_binary(inner: Any) -> bytes | uuid.UUID | Binary:
    if not isinstance(inner, dict) or not isinstance(inner.get("base64"), str):
        raise ValueError(f"EJSON $binary expects {{base64, subType}}, got {inner!r}.")
    try:
        data = base64.b64decode(inner["base64"], validate=True)
        subtype = int(_text(inner.get("subType", "00"), "$binary subType"), 16)
    except binascii.Error as exc:
        raise ValueError(f"EJSON $binary holds invalid base64: {exc}.") from exc
    if subtype == 0:
        return data
    if subtype == 4 and len(data) == 16:
        return uuid.UUID(bytes=data)
    return Binary(data, subtype)


def _decode_uuid(inner: Any) -> uuid.UUID:
    return uuid.UUID(_text(inner, "$uuid"))


_WRAPPERS = {
    "$numberInt": _decode_int,
    "$numberLong": _decode_long,
    "$numberDouble": _decode_double,
    "$numberDecimal": _decode_decimal,
    "$oid": _decode_oid,
    "$date": _decode_date,
    "$binary": _decode_binary,
    "$uuid": _decode_uuid,
}
