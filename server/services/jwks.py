"""``JwksCache``: the public keys a custom-JWT issuer publishes at a JWKS URL, cached.

Rule 1: keys are fetched again when the cache is older than ``max_age``, and when a token names
a ``kid`` the cache lacks (the issuer rotated its keys), but never more often than once per
``min_refetch`` seconds, so tokens with made-up ``kid`` values cannot make us hammer the issuer.

Rule 2: when a fetch fails, the keys fetched before stay in use; only a cache that never got any
keys makes logins fail.

Parsing of the key set is PyJWT's (``PyJWKSet``); fetching is httpx's. HTTP-free towards clients.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import jwt

log = logging.getLogger("latchkey.server")

FETCH_TIMEOUT = 5.0


class KeysUnavailable(Exception):
    """No key set could be fetched from the JWKS URL."""


class JwksCache:
    """Signing keys from one JWKS URL.

    ```python
    cache = JwksCache("https://issuer.example/.well-known/jwks.json", max_age=300, min_refetch=10)
    keys = await cache.keys_for(kid)   # the keys a token with this ``kid`` may be signed with
    ```
    """

    def __init__(self, url: str, *, max_age: float, min_refetch: float) -> None:
        self.url = url
        self.max_age = max_age
        self.min_refetch = min_refetch
        self._keys: list[jwt.PyJWK] = []
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def keys_for(self, kid: str | None) -> list[jwt.PyJWK]:
        """The cached keys matching ``kid`` (all keys when the token names none)."""
        if self._age_over(self.max_age):
            await self._refresh(self.max_age)
            if self._fetched_at is None:
                raise KeysUnavailable(f"could not fetch the signing keys from {self.url}")
        found = self._matching(kid)
        if not found and self._age_over(self.min_refetch):
            await self._refresh(self.min_refetch)
            found = self._matching(kid)
        return found

    def _age_over(self, seconds: float) -> bool:
        return self._fetched_at is None or time.monotonic() - self._fetched_at >= seconds

    def _matching(self, kid: str | None) -> list[jwt.PyJWK]:
        if kid is None:
            return list(self._keys)
        return [k for k in self._keys if k.key_id == kid]

    async def _refresh(self, older_than: float) -> None:
        async with self._lock:
            # Concurrent logins wait for one fetch; whoever comes second finds it done.
            if not self._age_over(older_than):
                return
            try:
                self._keys = await self._fetch()
            except (httpx.HTTPError, ValueError, jwt.PyJWTError) as exc:
                log.warning("fetching signing keys from %s failed: %s", self.url,
                            type(exc).__name__)
                if self._fetched_at is None:
                    return
            self._fetched_at = time.monotonic()

    async def _fetch(self) -> list[jwt.PyJWK]:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT, follow_redirects=False) as client:
            resp = await client.get(self.url, headers={"Accept": "application/json"})
        resp.raise_for_status()
        data: Any = resp.json()
        if not isinstance(data, dict):
            raise ValueError("a JWKS document is a JSON object")
        keys = data.get("keys", [])
        if not isinstance(keys, list):
            raise ValueError("'keys' of a JWKS document is an array")
        usable = [k for k in keys if isinstance(k, dict) and k.get("use", "sig") == "sig"]
        return list(jwt.PyJWKSet(usable).keys)
