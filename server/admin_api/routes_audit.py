"""Thin Admin API routes of the audit log (Latchkey's addition) under
``/groups/{group_id}/apps/{app_object_id}/audit_log``: events and chart counts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..routes.common import json_ok
from . import audit_log, paths
from .auth import require_app


async def events(request: Request) -> Response:
    """``GET .../audit_log?user_id=&kind=a,b&since=&until=&before=&limit=``: newest first."""
    services, _ = await require_app(request)
    q = request.query_params
    return json_ok(await audit_log.list_events(
        services, user_id=q.get("user_id"), kind=q.get("kind"), since=q.get("since"),
        until=q.get("until"), before=q.get("before"), limit=q.get("limit")))


async def stats(request: Request) -> Response:
    """``GET .../audit_log/stats?days=&hours=``: sign-ins, sign-ups, failed logins."""
    services, _ = await require_app(request)
    q = request.query_params
    return json_ok(await audit_log.stats(services, q.get("days"), q.get("hours")))


ROUTES = [
    Route(paths.AUDIT_LOG, events, methods=["GET"]),
    Route(paths.AUDIT_STATS, stats, methods=["GET"]),
]
