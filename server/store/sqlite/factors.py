"""The SQLite store's passkeys, ceremonies in progress and second factors (issue 14).

It imports the standard library and the store's own modules only.
"""

from __future__ import annotations

import json
import sqlite3

from ..base import AuthChallenge, Conflict, Identity, Passkey, TotpFactor, UserRecord
from .connection import Connection
from .users import _insert_identity

PASSKEY = "passkey"
MAX_LIFETIME = 3600.0


class Factors(Connection):
    """Passkeys, challenges, TOTP factors and recovery codes."""

    # Passkeys.
    async def add_passkey(self, passkey: Passkey, provider_id: str,
                          new_user: UserRecord | None = None) -> None:
        def fn(c: sqlite3.Cursor) -> None:
            identity = Identity(PASSKEY, passkey.id, provider_id)
            if new_user is not None:
                c.execute(
                    "INSERT INTO users(id, type, disabled, data, created_at, last_login_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (new_user.id, new_user.type, int(new_user.disabled), "{}",
                     new_user.created_at, new_user.last_login_at))
                position = 0
            else:
                row = c.execute("SELECT COALESCE(MAX(position), -1) + 1 AS p, "
                                "(SELECT 1 FROM users WHERE id=?) AS u FROM identities"
                                " WHERE user_id=?", (passkey.user_id, passkey.user_id)).fetchone()
                if row["u"] is None:
                    raise Conflict("user does not exist")
                position = int(row["p"])
            _insert_identity(c, passkey.user_id, identity, position, passkey.created_at)
            c.execute(
                "INSERT INTO passkeys(id, user_id, public_key, sign_count, name, transports,"
                " aaguid, backed_up, created_at, last_used_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (passkey.id, passkey.user_id, passkey.public_key, passkey.sign_count,
                 passkey.name, json.dumps(list(passkey.transports)), passkey.aaguid,
                 int(passkey.backed_up), passkey.created_at, passkey.last_used_at))

        await self._run(fn)

    async def get_passkey(self, credential_id: str) -> Passkey | None:
        row = await self._read(lambda c: c.execute(
            "SELECT * FROM passkeys WHERE id=?", (credential_id,)).fetchone())
        return None if row is None else _passkey(row)

    async def list_passkeys(self, user_id: str) -> list[Passkey]:
        rows = await self._read(lambda c: c.execute(
            "SELECT * FROM passkeys WHERE user_id=? ORDER BY created_at, id",
            (user_id,)).fetchall())
        return [_passkey(r) for r in rows]

    async def use_passkey(self, credential_id: str, sign_count: int, when: float) -> bool:
        return bool(await self._run(lambda c: c.execute(
            "UPDATE passkeys SET sign_count=?, last_used_at=? WHERE id=?"
            " AND (sign_count < ? OR (sign_count = 0 AND ? = 0))",
            (sign_count, when, credential_id, sign_count, sign_count)).rowcount))

    async def rename_passkey(self, user_id: str, credential_id: str, name: str) -> bool:
        return bool(await self._run(lambda c: c.execute(
            "UPDATE passkeys SET name=? WHERE id=? AND user_id=?",
            (name, credential_id, user_id)).rowcount))

    async def delete_passkey(self, user_id: str, credential_id: str) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            if c.execute("SELECT 1 FROM passkeys WHERE id=? AND user_id=?",
                         (credential_id, user_id)).fetchone() is None:
                return False
            others = c.execute("SELECT COUNT(*) AS n FROM identities WHERE user_id=?"
                               " AND NOT (provider_type=? AND id=?)",
                               (user_id, PASSKEY, credential_id)).fetchone()["n"]
            if not others:
                raise Conflict("the user's last identity")
            c.execute("DELETE FROM passkeys WHERE id=?", (credential_id,))
            c.execute("DELETE FROM identities WHERE provider_type=? AND id=?",
                      (PASSKEY, credential_id))
            return True

        return await self._run(fn)

    # Challenges.
    async def put_challenge(self, challenge: AuthChallenge) -> None:
        def fn(c: sqlite3.Cursor) -> None:
            # Lifetimes are at most an hour (config_check.RANGES), so a row that expired an
            # hour before this one does is dead whatever the clock says now.
            c.execute("DELETE FROM auth_challenges WHERE expires_at < ?",
                      (challenge.expires_at - MAX_LIFETIME,))
            c.execute("INSERT INTO auth_challenges(id, kind, user_id, challenge, data,"
                      " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                      (challenge.id, challenge.kind, challenge.user_id, challenge.challenge,
                       json.dumps(challenge.data), challenge.expires_at))

        await self._run(fn)

    async def get_challenge(self, challenge_id: str, now: float) -> AuthChallenge | None:
        row = await self._read(lambda c: c.execute(
            "SELECT * FROM auth_challenges WHERE id=? AND expires_at > ?",
            (challenge_id, now)).fetchone())
        return None if row is None else _challenge(row)

    async def take_challenge(self, challenge_id: str, now: float) -> AuthChallenge | None:
        def fn(c: sqlite3.Cursor) -> AuthChallenge | None:
            row = c.execute("DELETE FROM auth_challenges WHERE id=? RETURNING *",
                            (challenge_id,)).fetchone()
            return None if row is None or row["expires_at"] <= now else _challenge(row)

        return await self._run(fn)

    # Second factors.
    async def put_totp(self, factor: TotpFactor) -> None:
        def fn(c: sqlite3.Cursor) -> None:
            done = c.execute(
                "INSERT INTO totp_factors(user_id, secret, confirmed, last_step, created_at)"
                " VALUES (?, ?, 0, 0, ?) ON CONFLICT(user_id) DO UPDATE SET"
                " secret=excluded.secret, created_at=excluded.created_at, last_step=0"
                " WHERE totp_factors.confirmed=0",
                (factor.user_id, factor.secret, factor.created_at)).rowcount
            if not done:
                raise Conflict("a confirmed factor exists")

        await self._run(fn)

    async def get_totp(self, user_id: str) -> TotpFactor | None:
        def fn(c: sqlite3.Cursor) -> TotpFactor | None:
            row = c.execute("SELECT *, (SELECT COUNT(*) FROM recovery_codes r"
                            " WHERE r.user_id=t.user_id) AS left FROM totp_factors t"
                            " WHERE user_id=?", (user_id,)).fetchone()
            return None if row is None else TotpFactor(
                row["user_id"], row["secret"], bool(row["confirmed"]), int(row["last_step"]),
                row["created_at"], int(row["left"]))

        return await self._read(fn)

    async def confirm_totp(self, user_id: str, step: int, recovery_hashes: list[str]) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            if not c.execute("UPDATE totp_factors SET confirmed=1, last_step=? WHERE user_id=?"
                             " AND confirmed=0", (step, user_id)).rowcount:
                return False
            _replace_codes(c, user_id, recovery_hashes)
            return True

        return await self._run(fn)

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        return bool(await self._run(lambda c: c.execute(
            "UPDATE totp_factors SET last_step=? WHERE user_id=? AND confirmed=1"
            " AND last_step < ?", (step, user_id, step)).rowcount))

    async def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        return bool(await self._run(lambda c: c.execute(
            "DELETE FROM recovery_codes WHERE user_id=? AND code_hash=?",
            (user_id, code_hash)).rowcount))

    async def set_recovery_codes(self, user_id: str, code_hashes: list[str]) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            if c.execute("SELECT 1 FROM totp_factors WHERE user_id=? AND confirmed=1",
                         (user_id,)).fetchone() is None:
                return False
            _replace_codes(c, user_id, code_hashes)
            return True

        return await self._run(fn)

    async def delete_factors(self, user_id: str) -> bool:
        def fn(c: sqlite3.Cursor) -> bool:
            c.execute("DELETE FROM recovery_codes WHERE user_id=?", (user_id,))
            return bool(c.execute("DELETE FROM totp_factors WHERE user_id=?",
                                  (user_id,)).rowcount)

        return await self._run(fn)


def _replace_codes(c: sqlite3.Cursor, user_id: str, hashes: list[str]) -> None:
    c.execute("DELETE FROM recovery_codes WHERE user_id=?", (user_id,))
    c.executemany("INSERT INTO recovery_codes(user_id, code_hash) VALUES (?, ?)",
                  [(user_id, h) for h in dict.fromkeys(hashes)])


def _passkey(row: sqlite3.Row) -> Passkey:
    return Passkey(row["id"], row["user_id"], row["public_key"], int(row["sign_count"]),
                   row["name"], row["created_at"], row["last_used_at"],
                   tuple(json.loads(row["transports"])), row["aaguid"], bool(row["backed_up"]))


def _challenge(row: sqlite3.Row) -> AuthChallenge:
    return AuthChallenge(row["id"], row["kind"], row["user_id"], row["challenge"],
                         row["expires_at"], json.loads(row["data"]))
