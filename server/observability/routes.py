"""``/health/live``, ``/health/ready`` (as Keycloak names them) and ``/metrics``.

- ``/health/live``: 200 ``{"status": "UP"}`` while the process answers at all.
- ``/health/ready``: 200 ``{"status": "UP", "checks": [...]}`` when the config is loaded (the
  server's services exist) and the store answers a small read within ``READY_TIMEOUT`` seconds;
  503 with ``"status": "DOWN"`` and the failing check otherwise. The failure names the kind of
  error only, never a connection string.
- ``/metrics``: the Prometheus text format (``metrics.render``), when ``[metrics] enabled``.
  Who may read it: with ``[metrics] token_env`` naming a set environment variable, any client
  that sends ``Authorization: Bearer <that value>``; without it, only clients on the loopback
  interface that did not come through a proxy (no ``Forwarded``/``X-Forwarded-For`` header).
  Others get 404 ``NotFound``, as if there were no such route.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import os
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.sdk.errors import ErrorCode

from ..errors import ApiError, link_base
from ..ops_settings import MetricsSettings, read_table
from ..services.context import Services
from . import metrics

READY_TIMEOUT = 2.0
HEALTH_LIVE = "/health/live"
HEALTH_READY = "/health/ready"
METRICS = "/metrics"


def _services(request: Request) -> Services | None:
    services = getattr(request.app.state, "services", None)
    return services if isinstance(services, Services) else None


async def live(request: Request) -> Response:
    """``GET /health/live``: the process is up."""
    return JSONResponse({"status": "UP"}, headers={"Cache-Control": "no-store"})


async def ready(request: Request) -> Response:
    """``GET /health/ready``: the config is loaded and the store answers."""
    services = _services(request)
    checks: list[dict[str, Any]] = [{"name": "config", "status": "UP" if services else "DOWN"}]
    if services is not None:
        checks.append(await _store_check(services))
    up = all(c["status"] == "UP" for c in checks)
    body: dict[str, Any] = {"status": "UP" if up else "DOWN", "checks": checks}
    if not up:
        # Also the shape of every error, for clients that read only that.
        down = ", ".join(c["name"] for c in checks if c["status"] != "UP")
        _, error = ApiError(ErrorCode.INTERNAL_SERVER_ERROR, 503, f"not ready: {down}")(
            link_base(request.scope))
        body.update(error)
    return JSONResponse(body, status_code=200 if up else 503,
                        headers={"Cache-Control": "no-store"})


async def _store_check(services: Services) -> dict[str, Any]:
    try:
        await asyncio.wait_for(services.store.get_meta("schema_version"), READY_TIMEOUT)
    except TimeoutError:
        return {"name": "store", "status": "DOWN", "data": {"error": "no answer within "
                                                                     f"{READY_TIMEOUT:g} s"}}
    except Exception as exc:  # Whatever the driver raises, the store is not ready.
        return {"name": "store", "status": "DOWN", "data": {"error": type(exc).__name__}}
    return {"name": "store", "status": "UP"}


def _metrics_settings(services: Services) -> MetricsSettings:
    found = services.extras.get("metrics_settings")
    if not isinstance(found, MetricsSettings):
        found = read_table(services.settings.raw, "metrics", MetricsSettings)
        services.extras["metrics_settings"] = found
    return found


def may_read_metrics(request: Request, settings: MetricsSettings) -> bool:
    """Whether this request may read ``/metrics`` (see the module docstring)."""
    if not settings.enabled:
        return False
    token = os.environ.get(settings.token_env, "") if settings.token_env else ""
    if token:
        sent = request.headers.get("authorization", "")
        return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())
    if "forwarded" in request.headers or "x-forwarded-for" in request.headers:
        return False
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


async def metrics_page(request: Request) -> Response:
    """``GET /metrics``: every process's metrics in the Prometheus text format."""
    services = _services(request)
    if services is None or not may_read_metrics(request, _metrics_settings(services)):
        raise ApiError(ErrorCode.NOT_FOUND, 404, "not found")
    sessions = services.extras.get("sessions_collector")
    if not isinstance(sessions, metrics.SessionsCollector):
        store = services.store
        sessions = metrics.SessionsCollector(lambda: store.count_live_sessions(_now()))
        services.extras["sessions_collector"] = sessions
    try:
        await asyncio.wait_for(sessions.refresh(), READY_TIMEOUT)
    except Exception:  # noqa: S110 (a store that is down leaves the gauge out, not the page)
        pass
    metrics.flush()
    body = await asyncio.to_thread(metrics.render, sessions)
    return Response(body, media_type=metrics.CONTENT_TYPE,
                    headers={"Cache-Control": "no-store"})


def _now() -> float:
    return time.time()


ROUTES = [
    Route(HEALTH_LIVE, live, methods=["GET"]),
    Route(HEALTH_READY, ready, methods=["GET"]),
    Route(METRICS, metrics_page, methods=["GET"]),
]
