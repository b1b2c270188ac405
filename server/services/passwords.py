"""Password hashing with argon2id (``argon2-cffi``).

Parameters: time_cost=2, memory_cost=19 MiB, parallelism=1: OWASP's minimum recommendation for
argon2id (m=19456 KiB, t=2, p=1), about 20-30 ms per hash on this project's 2-core machines, so
one core verifies ~40 logins per second. Hashes run in a worker thread, never on the event loop.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 6
MAX_LENGTH = 128
LENGTH_MESSAGE = f"password must be between {MIN_LENGTH} and {MAX_LENGTH} characters"

_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, hash_len=32, salt_len=16)
# A real hash of a random password, verified against when an account does not exist, so that
# a login for an unknown email costs as long as one with a wrong password.
_DUMMY = _hasher.hash("latchkey-timing-equaliser")


def valid_length(password: str) -> bool:
    """Whether the password length is allowed (as App Services: 6 to 128 characters)."""
    return MIN_LENGTH <= len(password) <= MAX_LENGTH


async def hash_password(password: str) -> str:
    """The argon2id hash of a password."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether the password matches; ``None`` hash spends the same time and says no."""
    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY, password) and password_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)
