"""Extended JSON on the server, through ``bson.json_util`` (pymongo's well-kept implementation).

Request bodies arrive as canonical EJSON from realm-web and as plain or relaxed JSON from other
clients; ``loads`` accepts all of them. Responses to function calls go out as canonical EJSON so
that int64 values, dates and ids survive the trip exactly.

Rule: types round-trip. ``{"$numberLong": "5"}`` decodes to ``bson.Int64`` (not ``int``, which
would come back as ``$numberInt``), a ``$binary`` of any subtype but 0 stays a ``bson.Binary`` with
its subtype (a UUID is ``Binary(..., 4)``; ``.as_uuid()`` gives a ``uuid.UUID``), ``$numberDecimal``
stays ``Decimal128``; a ``uuid.UUID`` encodes as subtype 4.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
import re
from itertools import accumulate
from typing import Any

from bson import ObjectId, json_util
from bson.binary import Binary, UuidRepresentation
from bson.json_util import CANONICAL_JSON_OPTIONS, RELAXED_JSON_OPTIONS, JSONOptions

_DECODE = JSONOptions(tz_aware=True, tzinfo=dt.UTC)
_CANONICAL = CANONICAL_JSON_OPTIONS.with_options(uuid_representation=UuidRepresentation.STANDARD)
_RELAXED = RELAXED_JSON_OPTIONS.with_options(uuid_representation=UuidRepresentation.STANDARD)


def loads(text: str | bytes) -> Any:
    """Decode EJSON text (canonical or relaxed) into Python and BSON values.

    Strict where ``json`` and ``json_util`` are lenient, so that every accepted value is one BSON
    can hold and bad input is a ``ValueError`` (a 400), never a 500: no ``NaN``/``Infinity``
    literals and no number that overflows to infinity (EJSON spells them
    ``{"$numberDouble": "NaN"}``), integers within 64 bits (``$numberInt`` within 32), ``$binary``
    in valid base64 only, and a ``$numberDecimal`` that overflows is a ``ValueError`` too.
    """
    if isinstance(text, bytes | bytearray):
        # As ``json.loads`` reads bytes (UTF-8, -16 or -32).
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    elif not isinstance(text, str):
        raise TypeError(f"the JSON object must be str, bytes or bytearray, not "
                        f"{type(text).__name__}")
    elif text.startswith("\ufeff"):
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    plain = "$" not in text and "\\u" not in text
    # No ``$`` (not even escaped) means no EJSON wrapper: plain JSON, with the same checks of
    # numbers, without a Python call per object.
    return (_PLAIN if plain else _EJSON).decode(text)


_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _int64(text: str) -> int:
    value = int(text)
    if not _INT64[0] <= value <= _INT64[1]:
        raise ValueError("an integer is outside the 64-bit range")
    return value


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("a number is outside the range of a double")
    return value


def _decode_object(obj: dict[str, Any]) -> Any:
    if "$binary" in obj:
        data = obj["$binary"]
        base64.b64decode(data.get("base64", "") if isinstance(data, dict) else data, validate=True)
    try:
        value = json_util.object_hook(obj, _DECODE)
    except ArithmeticError as exc:  # decimal.Overflow and friends from $numberDecimal
        raise ValueError("invalid $numberDecimal") from exc
    if isinstance(value, int) and "$numberInt" in obj:
        bounds = _INT32
    elif isinstance(value, int):
        bounds = _INT64
    else:
        return value
    if not bounds[0] <= value <= bounds[1]:
        raise ValueError("an integer is outside its BSON range")
    return value


# ``json.loads`` with hooks builds a decoder on every call; these are built once.
_PLAIN = json.JSONDecoder(parse_constant=_no_constant, parse_int=_int64, parse_float=_finite)
_EJSON = json.JSONDecoder(object_hook=_decode_object, parse_constant=_no_constant,
                          parse_int=_int64, parse_float=_finite)


def to_python(value: Any) -> Any:
    """Decoded values with string keys and lists for arrays; every BSON type is kept (see the
    rule above), except that a subtype 0 ``Binary`` becomes the ``bytes`` it is."""
    if isinstance(value, dict):
        return {str(k): to_python(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_python(v) for v in value]
    if isinstance(value, Binary) and value.subtype == 0:
        return bytes(value)
    return value


def dumps_canonical(value: Any) -> str:
    """Encode a value as canonical EJSON text."""
    return json_util.dumps(value, json_options=_CANONICAL)


def loads_doc(text: str) -> dict[str, Any]:
    """Decode a stored document."""
    doc = to_python(loads(text))
    return doc if isinstance(doc, dict) else {}


def to_relaxed(value: Any) -> Any:
    """The value as plain JSON types in relaxed EJSON form (for claims such as ``user_data``)."""
    return json.loads(json_util.dumps(value, json_options=_RELAXED))


def as_id(value: Any) -> str | None:
    """A 24-hex id from a string or an ``ObjectId``, or ``None``."""
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, str) and ObjectId.is_valid(value):
        return value.lower()
    return None


# A JSON string, escapes included; the unrolled form keeps the match linear.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
#: How deep objects and arrays may nest in a body, a function's arguments or result, and custom
#: user data: MongoDB's BSON limit, so what App Services took is what Latchkey takes.
MAX_DEPTH = 100

_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def nesting_depth(text: str) -> int:
    """How deep objects and arrays nest in JSON text, found without decoding or recursion.

    Brackets inside strings do not count; EJSON wrappers such as ``{"$numberLong": "1"}`` do,
    as they are objects in the text. Meant for text that is then decoded as it is: bytes that
    ``json`` would read as UTF-16 or UTF-32 must be refused before (a NUL byte gives them away).

    ```python
    assert nesting_depth('{"a": [1, "]]]"]}') == 2
    ```
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    # ``accumulate`` and ``max`` run in C: a 64 KiB body of brackets takes a few milliseconds.
    return max(accumulate(map(_STEP.__getitem__, map(ord, brackets))), default=0)


def check_depth(value: Any, limit: int) -> None:
    """Raise ``ValueError`` when dicts and lists in ``value`` nest deeper than ``limit``.

    Iterative, so it holds for values of any depth, e.g. a document a function wants to store.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth > limit:
            raise ValueError(f"values nest deeper than {limit} levels")
        stack.extend((child, depth + 1) for child in children)


__all__ = ["MAX_DEPTH", "ObjectId", "as_id", "check_depth", "dumps_canonical", "loads",
           "loads_doc", "nesting_depth", "to_python", "to_relaxed"]
