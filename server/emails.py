"""Email addresses: the one normal form under which two spellings are the same account.

Rule: one account per address, compared after Unicode normalisation and case folding. The key
is ``NFC(casefold(NFC(address)))`` over the whole address, local part and domain alike:
``Ada@Example.com`` and ``ada@example.com`` are one account, as are the composed (NFC) and the
decomposed (NFD) forms of ``José@example.com``. Case folding is full Unicode folding, so ``ß``
matches ``ss`` and ``Σ`` matches ``σ`` and ``ς``. Compatibility forms (full-width letters,
ligatures) are not folded (that would be NFKC), nor is the domain converted to IDNA: the key
only joins spellings that a person would type for one address. The address as typed at
registration stays the account's own, the one its mails go to and its profile shows.

Stdlib only: the stores (for their migration) and the services both import it.

```python
assert email_key("Ada@Example.COM") == email_key("ada@example.com") == "ada@example.com"
```
"""

from __future__ import annotations

import unicodedata


def email_key(address: str) -> str:
    """The normal form of an address: what makes two spellings one account."""
    # casefold() can leave text that is not in NFC (it decomposes some characters), so the
    # result is normalised again; NFC first makes NFD input fold like NFC input.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", address).casefold())
