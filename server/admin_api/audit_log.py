"""The audit log through the Admin API (Latchkey's addition): events with filters and paging,
and the counts the console charts (sign-ins and sign-ups per day, failed logins per hour).

HTTP-free: ``routes_audit`` parses nothing but strings off the query and calls these. Events
come from ``server.services.audit`` (which also lists the kinds).
"""

from __future__ import annotations

import math
import time
from typing import Any

from app.sdk.errors import ErrorCode

from ..errors import bad_request
from ..services import audit
from ..services.context import Services
from ..store.base import AuditEvent, AuditQuery
from .users import MAX_QUERY, parse_after, parse_limit

MAX_KINDS = 32
DAY, HOUR = 86400, 3600
#: Default and largest spans of the charts: 30 days of days, 48 hours of hours.
DEFAULT_DAYS, MAX_DAYS = 30, 366
DEFAULT_HOURS, MAX_HOURS = 48, 24 * 31
SIGN_INS = (audit.LOGIN,)
SIGN_UPS = (audit.USER_CREATED,)
FAILED_LOGINS = (audit.LOGIN_ERROR,)


def event_json(event: AuditEvent) -> dict[str, Any]:
    """An event as the Admin API shows it (``time`` in Unix seconds, with fractions)."""
    return {"_id": event.id, "time": event.at, "kind": event.kind, "user_id": event.user_id,
            "provider": event.provider, "address": event.address,
            "device_id": event.device_id, "reason": event.reason, "actor": event.actor,
            "detail": event.detail}


def _time(name: str, raw: str | None) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise bad_request(f"{name} must be a time in Unix seconds", ErrorCode.INVALID_PARAMETER)
    return value


def _kinds(raw: str | None) -> tuple[str, ...]:
    kinds = tuple(k for k in (raw or "").split(",") if k)
    if len(kinds) > MAX_KINDS or any(len(k) > 64 or not k.isprintable() for k in kinds):
        raise bad_request(f"kind must be up to {MAX_KINDS} comma-separated event kinds",
                          ErrorCode.INVALID_PARAMETER)
    return kinds


async def list_events(services: Services, *, user_id: str | None, kind: str | None,
                      since: str | None, until: str | None, before: str | None,
                      limit: str | None) -> list[dict[str, Any]]:
    """Events newest first, filtered by user, kinds and ``[since, until)``; ``before`` is the
    ``_id`` of the last event of the previous page."""
    if user_id is not None and (len(user_id) > MAX_QUERY or not user_id.isprintable()):
        raise bad_request("user_id must be a user's id", ErrorCode.INVALID_PARAMETER)
    query = AuditQuery(user_id=user_id or None, kinds=_kinds(kind),
                       since=_time("since", since), until=_time("until", until),
                       before=parse_after(before), limit=parse_limit(limit))
    return [event_json(e) for e in await audit.list_events(services, query)]


def _span(name: str, raw: str | None, default: int, largest: int) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= largest:
        raise bad_request(f"{name} must be a whole number from 1 to {largest}",
                          ErrorCode.INVALID_PARAMETER)
    return int(raw)


def _series(rows: list[tuple[float, str, int]], kinds: tuple[str, ...], start: float,
            buckets: int, size: int) -> list[dict[str, Any]]:
    counts: dict[float, int] = {}
    for at, kind, n in rows:
        if kind in kinds:
            counts[at] = counts.get(at, 0) + n
    return [{"start": int(start + i * size), "count": counts.get(start + i * size, 0)}
            for i in range(buckets)]


async def stats(services: Services, days: str | None, hours: str | None,
                now: float | None = None) -> dict[str, Any]:
    """Sign-ins and sign-ups per UTC day for the last ``days`` days (today included) and
    failed logins per hour for the last ``hours`` hours, every bucket listed (zeros too)."""
    now = time.time() if now is None else now
    n_days = _span("days", days, DEFAULT_DAYS, MAX_DAYS)
    n_hours = _span("hours", hours, DEFAULT_HOURS, MAX_HOURS)
    day0 = (now // DAY - (n_days - 1)) * DAY
    hour0 = (now // HOUR - (n_hours - 1)) * HOUR
    by_day = await audit.counts(services, [*SIGN_INS, *SIGN_UPS], day0, now + 1, DAY)
    by_hour = await audit.counts(services, list(FAILED_LOGINS), hour0, now + 1, HOUR)
    return {"sign_ins_per_day": _series(by_day, SIGN_INS, day0, n_days, DAY),
            "sign_ups_per_day": _series(by_day, SIGN_UPS, day0, n_days, DAY),
            "failed_logins_per_hour": _series(by_hour, FAILED_LOGINS, hour0, n_hours, HOUR)}

