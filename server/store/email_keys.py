"""The normalised email key of email/password accounts, and the migration that adds it.

``userpass_accounts.email_key`` holds ``server.emails.email_key(email)`` under a unique index,
so two spellings of one address cannot both register, and a lookup finds the account whatever
the case or Unicode form typed. ``email`` keeps the address as typed at registration.

Rule 1: a store made before the column existed gets it at ``open``, in the transaction that
creates the schema: the column is added and filled, oldest account first, or nothing is.

Rule 2: the migration never fails and never loses a row. Where old data holds two accounts
whose addresses are one after normalisation, the oldest gets the key; each newer one keeps no
key (NULL, which the unique index allows any number of) and logs in by its exact address only,
as before. A warning names the addresses, so an operator can merge or delete them.

Rule 3: a lookup prefers the exact address, then the key. So each of two colliding accounts
stays reachable by the address it registered with, and every other spelling finds the owner.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from ..emails import email_key

log = logging.getLogger("latchkey.server")

COLUMN = "email_key"
ADD_COLUMN = "ALTER TABLE userpass_accounts ADD COLUMN email_key TEXT"


def assign(rows: Iterable[tuple[str, float]], taken: Iterable[str] = ()) -> list[tuple[str, str]]:
    """``(key, email)`` for accounts ``(email, created_at)`` without a key, oldest first.

    An account whose key is taken (by ``taken`` or an older account) gets none; a warning names
    it and the address that owns the key.
    """
    owners: dict[str, str] = {key: "" for key in taken}
    out: list[tuple[str, str]] = []
    for email, _ in sorted(rows, key=lambda r: (r[1], r[0])):
        key = email_key(email)
        if key in owners:
            owner = owners[key] or "an account that has it already"
            log.warning("email/password account %r is the same address as %r once case and "
                        "Unicode form are ignored; it keeps logging in by its exact address "
                        "only. Merge or delete one of them.", email, owner)
            continue
        owners[key] = email
        out.append((key, email))
    return out
