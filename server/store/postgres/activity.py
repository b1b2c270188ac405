"""The PostgreSQL store's audit log and users' views of their own sessions.

It imports psycopg and the store's own modules only, nothing of the HTTP layer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from psycopg.rows import DictRow

from ..base import AuditEvent, AuditQuery, SessionInfo, UserSession
from .connection import Connection, Cursor, _absent, _all, _exec, _one, _opt_str

_INSERT_EVENT = (
    "INSERT INTO audit_events(id, at, kind, user_id, provider, address, device_id, reason,"
    " actor, detail) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (id) DO NOTHING")
_UPSERT_INFO = (
    "INSERT INTO session_info(session_id, provider, address, last_used_at)"
    " VALUES (%s, %s, %s, %s) ON CONFLICT (session_id) DO UPDATE SET"
    " provider=COALESCE(excluded.provider, session_info.provider),"
    " address=excluded.address,"
    " last_used_at=GREATEST(excluded.last_used_at, session_info.last_used_at)")


class Activity(Connection):
    """Audit events and session metadata."""

    async def write_activity(self, events: Sequence[AuditEvent],
                             infos: Sequence[SessionInfo]) -> None:
        # PostgreSQL text holds no NUL character; an event must not fail for one it quotes.
        rows = [tuple(_text(v) for v in (e.id, e.at, e.kind, e.user_id, e.provider, e.address,
                                         e.device_id, e.reason, e.actor, json.dumps(e.detail)))
                for e in events]
        info_rows = [(i.session_id, i.provider, i.address, i.last_used_at) for i in infos]

        async def fn(c: Cursor) -> None:
            # Sorted by key, so two processes writing the same session rows lock them in one
            # order and cannot deadlock each other.
            if rows:
                await c.executemany(_INSERT_EVENT, rows)
            if info_rows:
                await c.executemany(_UPSERT_INFO, sorted(info_rows))

        if rows or info_rows:
            await self._run(fn)

    async def list_audit_events(self, query: AuditQuery) -> list[AuditEvent]:
        where, params = _filters(query)
        clause = " WHERE " + " AND ".join(where) if where else ""
        stmt = f'SELECT * FROM audit_events{clause} ORDER BY id COLLATE "C" DESC LIMIT %s'

        async def fn(c: Cursor) -> list[DictRow]:
            await c.execute(stmt, (*params, query.limit))
            return await c.fetchall()

        if _absent(*(str(p) for p in params)):
            return []
        return [_event(r) for r in await self._read(fn)]

    async def count_audit_events(self, kinds: Sequence[str], since: float, until: float,
                                 bucket_seconds: int) -> list[tuple[float, str, int]]:
        if not kinds or _absent(*kinds):
            return []
        rows = await self._read(_all(
            "SELECT floor(at / %s)::bigint AS b, kind, COUNT(*) AS n FROM audit_events"
            " WHERE kind = ANY(%s) AND at >= %s AND at < %s GROUP BY b, kind"
            ' ORDER BY b, kind COLLATE "C"', (bucket_seconds, list(kinds), since, until)))
        return [(float(r["b"] * bucket_seconds), str(r["kind"]), int(r["n"])) for r in rows]

    async def prune_audit_events(self, before: float) -> int:
        async def fn(c: Cursor) -> int:
            await c.execute("DELETE FROM audit_events WHERE at < %s", (before,))
            gone = c.rowcount
            await c.execute("DELETE FROM session_info i WHERE NOT EXISTS"
                            " (SELECT 1 FROM sessions s WHERE s.id = i.session_id)")
            return int(gone)

        return await self._run(fn)

    async def list_session_views(self, user_id: str, now: float) -> list[UserSession]:
        if _absent(user_id):
            return []
        rows = await self._read(_all(
            "SELECT s.id, s.device_id, s.created_at, s.expires_at, s.api_key_id, i.provider,"
            " i.address, i.last_used_at FROM sessions s LEFT JOIN session_info i"
            " ON i.session_id = s.id WHERE s.user_id=%s AND s.expires_at > %s"
            ' ORDER BY s.created_at DESC, s.id COLLATE "C" DESC', (user_id, now)))
        return [_user_session(r) for r in rows]

    async def delete_user_session(self, user_id: str, session_id: str) -> bool:
        if _absent(user_id, session_id):
            return False
        return bool(await self._run(_exec(
            "DELETE FROM sessions WHERE id=%s AND user_id=%s", (session_id, user_id))))

    async def delete_other_sessions(self, user_id: str, keep_session_id: str) -> int:
        if _absent(user_id, keep_session_id):
            return 0
        return int(await self._run(_exec(
            "DELETE FROM sessions WHERE user_id=%s AND id<>%s", (user_id, keep_session_id))))

    async def count_live_sessions(self, now: float) -> int:
        row = await self._read(_one(
            "SELECT COUNT(*) AS n FROM sessions WHERE expires_at > %s", (now,)))
        return 0 if row is None else int(row["n"])


def _text(value: Any) -> Any:
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


def _filters(query: AuditQuery) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if query.user_id is not None:
        where.append("user_id = %s")
        params.append(query.user_id)
    if query.kinds:
        where.append("kind = ANY(%s)")
        params.append(list(query.kinds))
    if query.since is not None:
        where.append("at >= %s")
        params.append(query.since)
    if query.until is not None:
        where.append("at < %s")
        params.append(query.until)
    if query.before is not None:
        where.append('id COLLATE "C" < %s')
        params.append(query.before)
    return where, params


def _event(row: DictRow) -> AuditEvent:
    return AuditEvent(str(row["id"]), float(row["at"]), str(row["kind"]),
                      _opt_str(row["user_id"]), _opt_str(row["provider"]),
                      _opt_str(row["address"]), _opt_str(row["device_id"]),
                      _opt_str(row["reason"]), _opt_str(row["actor"]), json.loads(row["detail"]))


def _user_session(row: DictRow) -> UserSession:
    created = float(row["created_at"])
    last = row["last_used_at"]
    return UserSession(str(row["id"]), str(row["device_id"]), created, float(row["expires_at"]),
                       _opt_str(row["api_key_id"]), _opt_str(row["provider"]),
                       str(row["address"] or ""), created if last is None else float(last))
