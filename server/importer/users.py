"""Importing users as the App Services Admin API lists them (``GET .../users``).

A file holds a JSON array of users, or one user object per line. Each user keeps its ``_id``,
its identities (provider type, id, provider id and provider data, in order), its ``type``,
``disabled`` flag and dates (``creation_date``, ``last_authentication_date``: seconds since the
epoch), so data keyed by user id still matches and the next login with any identity finds the
same user.

Rule 1: one transaction per user (``Store.import_user``); a user already there is left as it is,
so running an import again changes nothing. A line that is not a user, or whose identity or
address belongs to another user, is reported by its number and skipped, never half-written.

Rule 2: password hashes never leave App Services. An email/password user becomes a confirmed
account with a password nobody knows (``imported_password_hash``: an argon2id hash of 256 random
bits, same cost as a real one, so a login attempt takes as long as any other); the user sets a
password through a reset (``send_resets`` mails the links, paced).

HTTP-free: it uses the services and the store, like the other admin commands.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from argon2 import Type
from argon2.low_level import hash_secret

from app.sdk import routes

from ..errors import ApiError
from ..nul_text import holds_nul
from ..services import passwords, userpass
from ..services.context import Services
from ..store.base import Conflict, Identity, UserpassAccount, UserRecord

MAX_TEXT = 512
#: The salt of every imported account's hash: how ``needs_password`` recognises one.
IMPORT_SALT = b"latchkey:import!"
_SALT_B64 = base64.b64encode(IMPORT_SALT).decode().rstrip("=")


class BadUser(ValueError):
    """An entry of the file that is not a user Latchkey can import."""


@dataclass(slots=True)
class Report:
    """What an import did, by line number for what it skipped."""

    imported: int = 0
    present: int = 0
    problems: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    #: Users with an API key identity: the keys themselves never leave App Services.
    api_key_users: int = 0


def imported_password_hash() -> str:
    """A hash that no password matches in practice, recognisable by its salt."""
    hasher = passwords._hasher  # The server's own cost parameters.
    return hash_secret(secrets.token_bytes(32), IMPORT_SALT, time_cost=hasher.time_cost,
                       memory_cost=hasher.memory_cost, parallelism=hasher.parallelism,
                       hash_len=hasher.hash_len, type=Type.ID).decode()


def needs_password(password_hash: str) -> bool:
    """Whether an account still has the password it was imported with (none known)."""
    return f"${_SALT_B64}$" in password_hash


def entries(text: str) -> Iterator[tuple[int, Any]]:
    """``(number, value)`` for each user of a file: array items, or non-empty lines, from 1.

    A line that is not JSON gives ``BadUser`` as its value instead.
    """
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except ValueError as exc:
            yield 0, BadUser(f"the file is not a JSON array: {exc}")
            return
        yield from enumerate(items, start=1)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                yield number, json.loads(line)
            except ValueError as exc:
                yield number, BadUser(f"not JSON ({exc})")


def parse_user(value: Any, password_hash: str) -> tuple[UserRecord, tuple[UserpassAccount, ...]]:
    """A user of the Admin API as a record and its email/password accounts; ``BadUser``."""
    if isinstance(value, BadUser):
        raise value
    if not isinstance(value, dict):
        raise BadUser("not a JSON object")
    if holds_nul(value):  # PostgreSQL refuses it mid-import; SQLite would keep it.
        raise BadUser("it holds a NUL character, which a store cannot keep")
    user_id = _text(_oid(value.get("_id", value.get("id"))), "_id")
    created = _date(value.get("creation_date"), "creation_date") or 0.0
    last = _date(value.get("last_authentication_date"), "last_authentication_date")
    identities, accounts = [], []
    raw_identities = value.get("identities") or []
    if not isinstance(raw_identities, list):
        raise BadUser("identities must be a list")
    data = value.get("data") or {}
    if not isinstance(data, dict):
        raise BadUser("data must be an object")
    for item in raw_identities:
        if not isinstance(item, dict):
            raise BadUser("each identity must be an object")
        kind = _text(item.get("provider_type"), "identity provider_type")
        ident_id = _text(item.get("id"), "identity id")
        provider_data = item.get("provider_data") or {}
        if not isinstance(provider_data, dict):
            raise BadUser("identity provider_data must be an object")
        if kind == routes.LOCAL_USERPASS:
            email = provider_data.get("email") or data.get("email")
            email = _text(email, "the email of the local-userpass identity")
            provider_data = {**provider_data, "email": email}
            accounts.append(UserpassAccount(email, ident_id, password_hash, True, created))
        identities.append(Identity(kind, ident_id, str(item.get("provider_id") or ""),
                                   provider_data))
    kind = value.get("type", "normal")
    if kind not in ("normal", "server"):
        raise BadUser(f"type must be normal or server, not {str(kind)[:20]!r}")
    # The profile merges the identities' data; keep only what they do not already say.
    seen = {k for i in identities for k in i.data}
    extra = {k: v for k, v in data.items() if k not in seen}
    user = UserRecord(user_id, kind, bool(value.get("disabled", False)), created,
                      tuple(identities), extra, last)
    return user, tuple(accounts)


async def import_users(services: Services, text: str) -> Report:
    """Import every user of ``text``; a report of what was added, present or skipped."""
    report = Report()
    password_hash = await asyncio.to_thread(imported_password_hash)
    for number, value in entries(text):
        where = f"line {number}" if number else "the file"
        try:
            user, accounts = parse_user(value, password_hash)
        except BadUser as exc:
            report.problems.append(f"{where}: skipped, {exc}")
            continue
        try:
            added = await services.store.import_user(user, accounts)
        except Conflict:
            report.problems.append(f"{where}: skipped, an identity or email address of user "
                                   f"{user.id} belongs to another user already")
            continue
        report.emails.extend(a.email for a in accounts)
        if any(i.provider_type == routes.API_KEY for i in user.identities):
            report.api_key_users += 1
        if added:
            report.imported += 1
        else:
            report.present += 1
    return report


async def send_resets(services: Services, emails: list[str], per_second: float) -> list[str]:
    """Mail a reset link to each address whose account has no password of its own yet,
    ``per_second`` at most; one line per mail that could not go."""
    problems = []
    pause = 1.0 / per_second
    for email in emails:
        account = await services.store.get_userpass(email)
        if account is None or not needs_password(account.password_hash):
            continue
        try:
            await userpass.send_reset(services, {"email": account.email})
        except ApiError as exc:
            problems.append(f"{account.email}: no reset mail, {exc.message}")
        await asyncio.sleep(pause)
    return problems


def _oid(value: Any) -> Any:
    # mongoexport-style {"$oid": "..."} as well as the Admin API's plain string.
    return value.get("$oid") if isinstance(value, dict) else value


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise BadUser(f"{what} must be a non-empty string")
    if len(value) > MAX_TEXT or not value.isprintable():
        raise BadUser(f"{what} is too long or holds unprintable characters")
    return value


def _date(value: Any, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, dict) and "$date" in value:
        value = value["$date"]
        value = value.get("$numberLong") if isinstance(value, dict) else value
        try:
            seconds = float(value) / 1000
        except (TypeError, ValueError) as exc:
            raise BadUser(f"{what} is not a date") from exc
        return _in_range(seconds, what)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise BadUser(f"{what} must be seconds since the epoch")
    return _in_range(float(value), what)


LAST_DATE = 253_402_300_799.0  # 9999-12-31 23:59:59 UTC, the last date a token may carry too


def _in_range(seconds: float, what: str) -> float:
    # A date past the year 9999 (or NaN, or before 1970) was stored as it came and then broke
    # `serve.py users list` (OverflowError) and any page that shows the date.
    if not 0 <= seconds <= LAST_DATE:
        raise BadUser(f"{what} must be a date from 1970 to 9999")
    return seconds
