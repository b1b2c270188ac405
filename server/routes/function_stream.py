"""``GET /app/{app_id}/functions/call?baas_request=...``: realm-web's ``callFunctionStreaming``.

realm-web sends the call body (``{name, arguments}``) as base64 in the ``baas_request`` query
parameter, with ``Accept: text/event-stream`` and the access token in the ``Authorization``
header, and hands the caller the raw bytes of the answer. App Services streams change events
this way (``collection.watch``); a Latchkey function returns one value, so the stream is one
Server-Sent Event, ``data: <canonical EJSON>``, and ends. The token is taken only from the
header: realm-core's ``baas_at`` query parameter would put it in URLs and logs, so it is not
read. Errors are the usual error JSON with the usual statuses, before any event.
"""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sdk import routes as paths
from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..services import calls, sessions
from .common import check_app
from .functions import request_fields


def _decoded(request: Request, limit: int) -> bytes:
    text = request.query_params.get("baas_request", "")
    if not text:
        raise ApiError(ErrorCode.MISSING_PARAMETER, 400, "expected a baas_request parameter")
    if len(text) > limit * 4 // 3 + 4:
        raise ApiError(ErrorCode.REQUEST_TOO_LARGE, 413, "baas_request is too large")
    try:
        # realm-web writes standard base64; accept the URL-safe alphabet and lost padding too.
        return base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4),
                                validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ApiError(ErrorCode.INVALID_PARAMETER, 400,
                       "invalid function call request: baas_request is not base64") from exc


async def call_streaming(request: Request) -> Response:
    """The function's result as one ``text/event-stream`` event."""
    services = check_app(request)
    caller = await sessions.check_access(services, request.headers.get("authorization"))
    body = _decoded(request, services.settings.security.max_body_bytes)
    result = await calls.call(services, caller.user, body, request_fields(request))
    return Response(f"data: {result}\n\n", media_type="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


ROUTES = [Route(paths.functions_call("{app_id}"), call_streaming, methods=["GET"])]
