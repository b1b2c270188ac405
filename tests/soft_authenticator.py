"""A software WebAuthn authenticator for tests: ES256 keys made with ``cryptography``, CBOR with
``cbor2``, and the JSON a browser's ``PublicKeyCredential.toJSON()`` gives.

It plays the browser too (it writes ``clientDataJSON`` with its ``origin``), and it has knobs
for the refusals the server must make: no user verification, another origin or RP id, a counter
that does not move (a clone), and a copy of itself (``clone()``). It is the CPython SDK's
``Authenticator`` (``create``/``get``, both async), so SDK tests drive it too.

```python
device = SoftAuthenticator("http://localhost:8000")
credential = device.make(options)       # navigator.credentials.create
assertion = device.sign(options)        # navigator.credentials.get
```
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    """One resident credential: its id, key, RP, user handle and counter."""

    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    user_name: str
    counter: int = 0


@dataclass
class SoftAuthenticator:
    """A platform authenticator with resident (discoverable) ES256 credentials."""

    origin: str
    user_verifying: bool = True
    #: What each use adds to the counter (0: an authenticator without a counter).
    counter_step: int = 1
    credentials: list[Credential] = field(default_factory=list)
    #: Overrides for a test: sign for another RP id or claim another origin.
    rp_id_override: str | None = None
    origin_override: str | None = None
    backup_eligible: bool = True

    def clone(self) -> SoftAuthenticator:
        """A copy with the same keys and counters (a cloned authenticator)."""
        return copy.deepcopy(self)

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge,
                           "origin": self.origin_override or self.origin,
                           "crossOrigin": False}).encode()

    def _flags(self) -> int:
        flags = UP | (UV if self.user_verifying else 0)
        return flags | ((BE | BS) if self.backup_eligible else 0)

    def make(self, options: dict[str, Any]) -> dict[str, Any]:
        """The registration response for creation options (``PublicKeyCredentialJSON``)."""
        rp_id = self.rp_id_override or options["rp"]["id"]
        excluded = {c["id"] for c in options.get("excludeCredentials", [])}
        if any(b64url(c.id) in excluded for c in self.credentials if c.rp_id == rp_id):
            raise PermissionError("InvalidStateError: a credential of this authenticator is "
                                  "excluded")
        key = ec.generate_private_key(ec.SECP256R1())
        cred = Credential(os.urandom(16), key, rp_id, unb64url(options["user"]["id"]),
                          options["user"]["name"])
        numbers = key.public_key().public_numbers()
        cose = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})
        attested = bytes(16) + struct.pack(">H", len(cred.id)) + cred.id + cose
        auth_data = (hashlib.sha256(rp_id.encode()).digest()
                     + bytes([self._flags() | AT]) + struct.pack(">I", cred.counter) + attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        self.credentials.append(cred)
        client_data = self._client_data("webauthn.create", options["challenge"])
        return {"id": b64url(cred.id), "rawId": b64url(cred.id), "type": "public-key",
                "authenticatorAttachment": "platform", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data),
                             "attestationObject": b64url(attestation),
                             "transports": ["internal", "hybrid"]}}

    def sign(self, options: dict[str, Any], credential_id: str | None = None
                ) -> dict[str, Any]:
        """The assertion for request options: of ``credential_id``, else the first allowed
        credential, else the newest resident one of the RP (``PublicKeyCredentialJSON``)."""
        rp_id = self.rp_id_override or options["rpId"]
        allowed = {c["id"] for c in options.get("allowCredentials", [])}
        usable = [c for c in self.credentials if c.rp_id == rp_id
                  and (not allowed or b64url(c.id) in allowed)
                  and (credential_id is None or b64url(c.id) == credential_id)]
        if not usable:
            raise PermissionError("NotAllowedError: no credential for this RP")
        cred = usable[-1]
        cred.counter += self.counter_step
        auth_data = (hashlib.sha256(rp_id.encode()).digest() + bytes([self._flags()])
                     + struct.pack(">I", cred.counter))
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = cred.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return {"id": b64url(cred.id), "rawId": b64url(cred.id), "type": "public-key",
                "authenticatorAttachment": "platform", "clientExtensionResults": {},
                "response": {"clientDataJSON": b64url(client_data),
                             "authenticatorData": b64url(auth_data),
                             "signature": b64url(signature),
                             "userHandle": b64url(cred.user_handle)}}

    # The CPython SDK's Authenticator protocol.
    async def create(self, options: dict[str, Any]) -> dict[str, Any]:
        return self.make(options)

    async def get(self, options: dict[str, Any], *, conditional: bool = False
                  ) -> dict[str, Any]:
        return self.sign(options)
