"""The PostgreSQL store's passkeys, ceremonies in progress and second factors (issue 14).

It imports psycopg's row types and the store's own modules only, nothing of the HTTP layer.
"""

from __future__ import annotations

import json

from psycopg.rows import DictRow

from ..base import AuthChallenge, Conflict, Identity, Passkey, TotpFactor, UserRecord
from .connection import Connection, Cursor, _absent, _all, _exec, _one, _row
from .users import _insert_identity

PASSKEY = "passkey"
MAX_LIFETIME = 3600.0


class Factors(Connection):
    """Passkeys, challenges, TOTP factors and recovery codes."""

    # Passkeys.
    async def add_passkey(self, passkey: Passkey, provider_id: str,
                          new_user: UserRecord | None = None) -> None:
        async def fn(c: Cursor) -> None:
            if new_user is not None:
                await c.execute(
                    "INSERT INTO users(id, type, disabled, data, created_at, last_login_at)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    (new_user.id, new_user.type, int(new_user.disabled), "{}",
                     new_user.created_at, new_user.last_login_at))
                position = 0
            else:
                # Locked like add_identity: appends are serialised and a deletion wins cleanly.
                await c.execute("SELECT id FROM users WHERE id=%s FOR UPDATE", (passkey.user_id,))
                if await c.fetchone() is None:
                    raise Conflict("user does not exist")
                await c.execute("SELECT COALESCE(MAX(position), -1) + 1 AS p"
                                " FROM identities WHERE user_id=%s", (passkey.user_id,))
                position = int(_row(await c.fetchone())["p"])
            await _insert_identity(c, passkey.user_id, Identity(PASSKEY, passkey.id, provider_id),
                                   position, passkey.created_at)
            await c.execute(
                "INSERT INTO passkeys(id, user_id, public_key, sign_count, name, transports,"
                " aaguid, backed_up, created_at, last_used_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (passkey.id, passkey.user_id, passkey.public_key, passkey.sign_count,
                 passkey.name, json.dumps(list(passkey.transports)), passkey.aaguid,
                 int(passkey.backed_up), passkey.created_at, passkey.last_used_at))

        if _absent(passkey.id, passkey.user_id):
            raise Conflict("not storable")
        await self._run(fn)

    async def get_passkey(self, credential_id: str) -> Passkey | None:
        if _absent(credential_id):
            return None
        row = await self._read(_one("SELECT * FROM passkeys WHERE id=%s", (credential_id,)))
        return None if row is None else _passkey(row)

    async def list_passkeys(self, user_id: str) -> list[Passkey]:
        if _absent(user_id):
            return []
        rows = await self._read(_all(
            'SELECT * FROM passkeys WHERE user_id=%s ORDER BY created_at, id COLLATE "C"',
            (user_id,)))
        return [_passkey(r) for r in rows]

    async def use_passkey(self, credential_id: str, sign_count: int, when: float) -> bool:
        if _absent(credential_id):
            return False
        return bool(await self._run(_exec(
            "UPDATE passkeys SET sign_count=%s, last_used_at=%s WHERE id=%s"
            " AND (sign_count < %s OR (sign_count = 0 AND %s = 0))",
            (sign_count, when, credential_id, sign_count, sign_count))))

    async def rename_passkey(self, user_id: str, credential_id: str, name: str) -> bool:
        if _absent(user_id, credential_id, name):
            return False
        return bool(await self._run(_exec(
            "UPDATE passkeys SET name=%s WHERE id=%s AND user_id=%s",
            (name, credential_id, user_id))))

    async def delete_passkey(self, user_id: str, credential_id: str) -> bool:
        async def fn(c: Cursor) -> bool:
            # Lock the user, so two deletions of its last two identities cannot both pass.
            await c.execute("SELECT id FROM users WHERE id=%s FOR UPDATE", (user_id,))
            await c.execute("SELECT 1 FROM passkeys WHERE id=%s AND user_id=%s",
                            (credential_id, user_id))
            if await c.fetchone() is None:
                return False
            await c.execute("SELECT COUNT(*) AS n FROM identities WHERE user_id=%s"
                            " AND NOT (provider_type=%s AND id=%s)",
                            (user_id, PASSKEY, credential_id))
            if not int(_row(await c.fetchone())["n"]):
                raise Conflict("the user's last identity")
            await c.execute("DELETE FROM passkeys WHERE id=%s", (credential_id,))
            await c.execute("DELETE FROM identities WHERE provider_type=%s AND id=%s",
                            (PASSKEY, credential_id))
            return True

        if _absent(user_id, credential_id):
            return False
        return await self._run(fn)

    # Challenges.
    async def put_challenge(self, challenge: AuthChallenge) -> None:
        async def fn(c: Cursor) -> None:
            # Lifetimes are at most an hour (config_check.RANGES), so a row that expired an
            # hour before this one does is dead whatever the clock says now.
            await c.execute("DELETE FROM auth_challenges WHERE expires_at < %s",
                            (challenge.expires_at - MAX_LIFETIME,))
            await c.execute(
                "INSERT INTO auth_challenges(id, kind, user_id, challenge, data, expires_at)"
                " VALUES (%s, %s, %s, %s, %s, %s)",
                (challenge.id, challenge.kind, challenge.user_id, challenge.challenge,
                 json.dumps(challenge.data), challenge.expires_at))

        await self._run(fn)

    async def get_challenge(self, challenge_id: str, now: float) -> AuthChallenge | None:
        if _absent(challenge_id):
            return None
        row = await self._read(_one(
            "SELECT * FROM auth_challenges WHERE id=%s AND expires_at > %s", (challenge_id, now)))
        return None if row is None else _challenge(row)

    async def take_challenge(self, challenge_id: str, now: float) -> AuthChallenge | None:
        if _absent(challenge_id):
            return None
        row = await self._run(_one("DELETE FROM auth_challenges WHERE id=%s RETURNING *",
                                   (challenge_id,)))
        return None if row is None or row["expires_at"] <= now else _challenge(row)

    # Second factors.
    async def put_totp(self, factor: TotpFactor) -> None:
        done = await self._run(_exec(
            "INSERT INTO totp_factors(user_id, secret, confirmed, last_step, created_at)"
            " VALUES (%s, %s, 0, 0, %s) ON CONFLICT (user_id) DO UPDATE SET"
            " secret=excluded.secret, created_at=excluded.created_at, last_step=0"
            " WHERE totp_factors.confirmed=0", (factor.user_id, factor.secret, factor.created_at)))
        if not done:
            raise Conflict("a confirmed factor exists")

    async def get_totp(self, user_id: str) -> TotpFactor | None:
        if _absent(user_id):
            return None
        row = await self._read(_one(
            "SELECT t.*, (SELECT COUNT(*) FROM recovery_codes r WHERE r.user_id=t.user_id)"
            " AS codes_left FROM totp_factors t WHERE user_id=%s", (user_id,)))
        return None if row is None else TotpFactor(
            str(row["user_id"]), str(row["secret"]), bool(row["confirmed"]),
            int(row["last_step"]), float(row["created_at"]), int(row["codes_left"]))

    async def confirm_totp(self, user_id: str, step: int, recovery_hashes: list[str]) -> bool:
        async def fn(c: Cursor) -> bool:
            await c.execute("UPDATE totp_factors SET confirmed=1, last_step=%s WHERE user_id=%s"
                            " AND confirmed=0", (step, user_id))
            if not c.rowcount:
                return False
            await _replace_codes(c, user_id, recovery_hashes)
            return True

        return False if _absent(user_id) else await self._run(fn)

    async def use_totp_step(self, user_id: str, step: int) -> bool:
        if _absent(user_id):
            return False
        return bool(await self._run(_exec(
            "UPDATE totp_factors SET last_step=%s WHERE user_id=%s AND confirmed=1"
            " AND last_step < %s", (step, user_id, step))))

    async def use_recovery_code(self, user_id: str, code_hash: str) -> bool:
        if _absent(user_id, code_hash):
            return False
        return bool(await self._run(_exec(
            "DELETE FROM recovery_codes WHERE user_id=%s AND code_hash=%s", (user_id, code_hash))))

    async def set_recovery_codes(self, user_id: str, code_hashes: list[str]) -> bool:
        async def fn(c: Cursor) -> bool:
            await c.execute("SELECT 1 FROM totp_factors WHERE user_id=%s AND confirmed=1"
                            " FOR UPDATE", (user_id,))
            if await c.fetchone() is None:
                return False
            await _replace_codes(c, user_id, code_hashes)
            return True

        return False if _absent(user_id) else await self._run(fn)

    async def delete_factors(self, user_id: str) -> bool:
        async def fn(c: Cursor) -> bool:
            await c.execute("DELETE FROM recovery_codes WHERE user_id=%s", (user_id,))
            await c.execute("DELETE FROM totp_factors WHERE user_id=%s", (user_id,))
            return bool(c.rowcount)

        return False if _absent(user_id) else await self._run(fn)


async def _replace_codes(c: Cursor, user_id: str, hashes: list[str]) -> None:
    await c.execute("DELETE FROM recovery_codes WHERE user_id=%s", (user_id,))
    for code_hash in dict.fromkeys(hashes):
        await c.execute("INSERT INTO recovery_codes(user_id, code_hash) VALUES (%s, %s)",
                        (user_id, code_hash))


def _passkey(row: DictRow) -> Passkey:
    last = row["last_used_at"]
    return Passkey(str(row["id"]), str(row["user_id"]), str(row["public_key"]),
                   int(row["sign_count"]), str(row["name"]), float(row["created_at"]),
                   None if last is None else float(last), tuple(json.loads(row["transports"])),
                   str(row["aaguid"]), bool(row["backed_up"]))


def _challenge(row: DictRow) -> AuthChallenge:
    user_id = row["user_id"]
    return AuthChallenge(str(row["id"]), str(row["kind"]),
                         None if user_id is None else str(user_id), str(row["challenge"]),
                         float(row["expires_at"]), json.loads(row["data"]))
