"""The SQLite store's audit log and users' views of their own sessions.

It imports the standard library and the store's own modules only.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from ..base import AuditEvent, AuditQuery, SessionInfo, UserSession
from .connection import Connection

_INSERT_EVENT = (
    "INSERT OR IGNORE INTO audit_events(id, at, kind, user_id, provider, address, device_id,"
    " reason, actor, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_UPSERT_INFO = (
    "INSERT INTO session_info(session_id, provider, address, last_used_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT(session_id) DO UPDATE SET"
    " provider=COALESCE(excluded.provider, session_info.provider),"
    " address=excluded.address,"
    " last_used_at=MAX(excluded.last_used_at, session_info.last_used_at)")


class Activity(Connection):
    """Audit events and session metadata."""

    async def write_activity(self, events: Sequence[AuditEvent],
                             infos: Sequence[SessionInfo]) -> None:
        rows = [(e.id, e.at, e.kind, e.user_id, e.provider, e.address, e.device_id, e.reason,
                 e.actor, json.dumps(e.detail)) for e in events]
        info_rows = [(i.session_id, i.provider, i.address, i.last_used_at) for i in infos]

        def fn(c: sqlite3.Cursor) -> None:
            if rows:
                c.executemany(_INSERT_EVENT, rows)
            if info_rows:
                c.executemany(_UPSERT_INFO, info_rows)

        if rows or info_rows:
            await self._run(fn)

    async def list_audit_events(self, query: AuditQuery) -> list[AuditEvent]:
        where, params = _filters(query)
        sql = ("SELECT * FROM audit_events" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY id DESC LIMIT ?")
        rows = await self._read(lambda c: c.execute(sql, (*params, query.limit)).fetchall())
        return [_event(r) for r in rows]

    async def count_audit_events(self, kinds: Sequence[str], since: float, until: float,
                                 bucket_seconds: int) -> list[tuple[float, str, int]]:
        if not kinds:
            return []
        marks = ",".join("?" * len(kinds))
        sql = (f"SELECT CAST(at / ? AS INTEGER) AS b, kind, COUNT(*) AS n FROM audit_events"
               f" WHERE kind IN ({marks}) AND at >= ? AND at < ? GROUP BY b, kind"
               " ORDER BY b, kind")
        rows = await self._read(lambda c: c.execute(
            sql, (bucket_seconds, *kinds, since, until)).fetchall())
        return [(float(r["b"] * bucket_seconds), str(r["kind"]), int(r["n"])) for r in rows]

    async def prune_audit_events(self, before: float) -> int:
        def fn(c: sqlite3.Cursor) -> int:
            gone = c.execute("DELETE FROM audit_events WHERE at < ?", (before,)).rowcount
            c.execute("DELETE FROM session_info WHERE NOT EXISTS"
                      " (SELECT 1 FROM sessions WHERE sessions.id = session_info.session_id)")
            return int(gone)

        return await self._run(fn)

    async def list_session_views(self, user_id: str, now: float) -> list[UserSession]:
        rows = await self._read(lambda c: c.execute(
            "SELECT s.id, s.device_id, s.created_at, s.expires_at, s.api_key_id, i.provider,"
            " i.address, i.last_used_at FROM sessions s LEFT JOIN session_info i"
            " ON i.session_id = s.id WHERE s.user_id=? AND s.expires_at > ?"
            " ORDER BY s.created_at DESC, s.id DESC", (user_id, now)).fetchall())
        return [_user_session(r) for r in rows]

    async def delete_user_session(self, user_id: str, session_id: str) -> bool:
        return bool(await self._run(lambda c: c.execute(
            "DELETE FROM sessions WHERE id=? AND user_id=?", (session_id, user_id)).rowcount))

    async def delete_other_sessions(self, user_id: str, keep_session_id: str) -> int:
        return int(await self._run(lambda c: c.execute(
            "DELETE FROM sessions WHERE user_id=? AND id<>?",
            (user_id, keep_session_id)).rowcount))

    async def count_live_sessions(self, now: float) -> int:
        row = await self._read(lambda c: c.execute(
            "SELECT COUNT(*) AS n FROM sessions WHERE expires_at > ?", (now,)).fetchone())
        return int(row["n"])


def _filters(query: AuditQuery) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if query.user_id is not None:
        where.append("user_id = ?")
        params.append(query.user_id)
    if query.kinds:
        where.append(f"kind IN ({','.join('?' * len(query.kinds))})")
        params.extend(query.kinds)
    if query.since is not None:
        where.append("at >= ?")
        params.append(query.since)
    if query.until is not None:
        where.append("at < ?")
        params.append(query.until)
    if query.before is not None:
        where.append("id < ?")
        params.append(query.before)
    return where, params


def _event(row: sqlite3.Row) -> AuditEvent:
    return AuditEvent(row["id"], float(row["at"]), row["kind"], row["user_id"], row["provider"],
                      row["address"], row["device_id"], row["reason"], row["actor"],
                      json.loads(row["detail"]))


def _user_session(row: sqlite3.Row) -> UserSession:
    return UserSession(row["id"], row["device_id"], float(row["created_at"]),
                       float(row["expires_at"]), row["api_key_id"], row["provider"],
                       row["address"] or "", float(row["last_used_at"] or row["created_at"]))
