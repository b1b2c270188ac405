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

import datetime as dt
from typing import Any

from bson import ObjectId, json_util
from bson.binary import Binary, UuidRepresentation
from bson.json_util import CANONICAL_JSON_OPTIONS, RELAXED_JSON_OPTIONS, JSONOptions

_DECODE = JSONOptions(tz_aware=True, tzinfo=dt.UTC)
_CANONICAL = CANONICAL_JSON_OPTIONS.with_options(uuid_representation=UuidRepresentation.STANDARD)
_RELAXED = RELAXED_JSON_OPTIONS.with_options(uuid_representation=UuidRepresentation.STANDARD)


def loads(text: str | bytes) -> Any:
    """Decode EJSON text (canonical or relaxed) into Python and BSON values."""
    return json_util.loads(text, json_options=_DECODE)


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
    import json

    return json.loads(json_util.dumps(value, json_options=_RELAXED))


def as_id(value: Any) -> str | None:
    """A 24-hex id from a string or an ``ObjectId``, or ``None``."""
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, str) and ObjectId.is_valid(value):
        return value.lower()
    return None


__all__ = ["ObjectId", "as_id", "dumps_canonical", "loads", "loads_doc", "to_python", "to_relaxed"]
