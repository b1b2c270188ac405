"""Helpers every route uses: the services, the app id check, body parsing, empty answers.

Rules for request bodies, enforced here for every route that reads one:

- A body is JSON and says so: ``Content-Type: application/json`` (any case, parameters such as
  ``; charset=utf-8`` allowed). Any other declared type, or a body without a type, is 415
  ``UnsupportedMediaType``. This shuts out cross-origin "simple" requests (``text/plain``,
  forms), which a browser sends from any page without asking the server first. Requests without
  a body (refresh, logout) need no type.
- It is UTF-8 (RFC 8259) and nests objects and arrays at most ``MAX_DEPTH`` levels, checked on
  the text before decoding, so that no later step (decoding, EJSON conversion, a function, the
  encoding of its result) meets a value deep enough to exhaust Python's recursion limit.
"""

from __future__ import annotations

import functools
import ipaddress
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from app.sdk.errors import ErrorCode

from .. import ejson
from ..errors import ApiError, bad_request
from ..services.context import Services

MAX_APP_ID = 128
# MongoDB's (and so App Services') limit on nesting in a BSON document; counted on the JSON
# text, so the body object is level 1 and an EJSON wrapper such as {"$numberLong": ...} counts.
MAX_DEPTH = ejson.MAX_DEPTH
JSON_TYPE = "application/json"


def services_of(request: Request) -> Services:
    """The server's ``Services``."""
    services: Services = request.app.state.services
    return services


def check_app(request: Request) -> Services:
    """The services, after checking the path's app id is the one this server runs."""
    services = services_of(request)
    app_id = str(request.path_params.get("app_id", ""))
    if app_id != services.settings.app_id:
        shown = app_id if len(app_id) <= MAX_APP_ID else app_id[:MAX_APP_ID] + "…"
        raise ApiError(ErrorCode.APP_NOT_FOUND, 404,
                       f"cannot find app using Client App ID '{shown}'")
    return services


async def read_body(request: Request) -> bytes:
    """The raw body, refusing more than the configured limit without reading it all."""
    limit = services_of(request).settings.security.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise ApiError(ErrorCode.REQUEST_TOO_LARGE, 413, f"request body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(ErrorCode.REQUEST_TOO_LARGE, 413,
                           f"request body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def unsupported_media_type() -> ApiError:
    """415 for a body that is not declared ``application/json``."""
    return ApiError(ErrorCode.UNSUPPORTED_MEDIA_TYPE, 415,
                    f"unsupported content type: request bodies must be {JSON_TYPE}")


async def json_bytes(request: Request) -> bytes:
    """The raw body of a JSON request, after the rules in the module docstring."""
    types = request.headers.getlist("content-type")
    declared = types[0] if types else None
    # Two Content-Type headers: a proxy in front may read the other one (RFC 9110 allows one).
    if len(types) > 1 or (declared is not None
                          and declared.split(";", 1)[0].strip().lower() != JSON_TYPE):
        raise unsupported_media_type()
    raw = await read_body(request)
    if raw and declared is None:
        raise unsupported_media_type()
    # A NUL byte never appears in JSON text; without one, ``json`` reads bytes as UTF-8, the
    # very text whose depth is measured here (UTF-16 could hide brackets from the count).
    try:
        if b"\0" in raw:
            raise ValueError("NUL byte")
        text = raw.decode("utf-8")
        # The depth is at most the number of opening brackets: counted in C, this spares
        # almost every body the scan for strings (a few microseconds a request).
        brackets = raw.count(b"[") + raw.count(b"{")
        depth = brackets if brackets <= MAX_DEPTH else ejson.nesting_depth(text)
    except ValueError as exc:
        raise bad_request("invalid request body: expected JSON",
                          ErrorCode.INVALID_PARAMETER) from exc
    if depth > MAX_DEPTH:
        raise bad_request(f"invalid request body: objects and arrays nest deeper than "
                          f"{MAX_DEPTH} levels", ErrorCode.INVALID_PARAMETER)
    return raw


async def json_body(request: Request, *, required: bool = True) -> dict[str, Any]:
    """The body decoded from EJSON (canonical or relaxed); it must be a JSON object."""
    raw = await json_bytes(request)
    if not raw.strip():
        if required:
            raise bad_request("expected a JSON object in the request body",
                              ErrorCode.MISSING_PARAMETER)
        return {}
    try:
        value = ejson.loads(raw)
    except Exception as exc:
        # Decoding is pure, and bad EJSON fails in many ways (ValueError, TypeError, InvalidId,
        # decimal.InvalidOperation, ...): every one is the client's mistake.
        raise bad_request("invalid request body: expected JSON",
                          ErrorCode.INVALID_PARAMETER) from exc
    if not isinstance(value, dict):
        raise bad_request("expected a JSON object in the request body", ErrorCode.INVALID_PARAMETER)
    if _has_lone_surrogate(value):
        raise bad_request("invalid request body: text is not valid Unicode",
                          ErrorCode.INVALID_PARAMETER)
    return value


def _has_lone_surrogate(value: Any) -> bool:
    # JSON escapes can spell a lone UTF-16 surrogate ("\ud800"), which no UTF-8 text holds:
    # hashing such a password or storing such an email would fail deep inside a service.
    # Iterative, since the value can be nested as deep as the decoder allows.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def empty(status: int = 204) -> Response:
    """A bodiless success: no ``Content-Type``, as realm-web requires (protocol 1.5)."""
    return Response(status_code=status)


def json_ok(value: Any, status: int = 200) -> Response:
    """A JSON success."""
    return JSONResponse(value, status_code=status)


def client_address(request: Request) -> str:
    """The peer address, for per-address rate limits (``address_key``)."""
    return address_key(request.client.host if request.client else "")


@functools.lru_cache(maxsize=4096)  # Parsing an address took ~10% of an anonymous login.
def address_key(host: str) -> str:
    """The address a client's requests are counted under.

    One IPv6 subscriber holds at least a /64, 2**64 addresses to rotate through, so IPv6
    addresses count by their /64; an IPv4-mapped IPv6 address (``::ffff:192.0.2.1``, what a
    dual-stack socket reports) is its IPv4 address; every spelling of one address is one key.
    """
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
