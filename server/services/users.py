"""Users: profiles, first-login creation, linking, deletion, custom user data.

Rule: every provider but email/password creates its user on first login; email/password creates
it at the first login after confirmation. Identity ids are unique per provider type, so the same
external person always maps to the same user, and one identity never belongs to two users.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import string
import time
from typing import Any

from bson import ObjectId

from app.sdk.errors import ErrorCode

from .. import ejson
from ..errors import ApiError
from ..store.base import Conflict, Identity, UserRecord
from . import audit, custom_data_size, identity_limits
from .context import Services


def new_id() -> str:
    """A fresh ObjectId hex string."""
    return str(ObjectId())


def anonymous_identity_id() -> str:
    """An anonymous identity id in App Services' shape: ``<ObjectId>-<24 lowercase letters>``."""
    # One draw of 113 random bits cut into 24 letters, where 24 draws took 24 system calls.
    draw = secrets.randbelow(26**24)
    letters = []
    for _ in range(24):
        draw, index = divmod(draw, 26)
        letters.append(string.ascii_lowercase[index])
    return f"{new_id()}-{''.join(letters)}"


def provider_id(services: Services, provider_type: str) -> str:
    """A stable id for a provider's config, derived from app id and provider type."""
    return _provider_id(services.settings.app_id, provider_type)


@functools.lru_cache(maxsize=256)
def _provider_id(app_id: str, provider_type: str) -> str:
    # Every profile and login asks for the same few (the provider types are the config's).
    return hashlib.sha256(f"{app_id}/{provider_type}".encode()).hexdigest()[:24]


def make_identity(services: Services, provider_type: str, ident_id: str,
                  data: dict[str, Any] | None = None) -> Identity:
    """An identity record for a provider."""
    return Identity(provider_type, ident_id, provider_id(services, provider_type), data or {})


async def login_identity(
    services: Services, identity: Identity, user_type: str = "normal"
) -> UserRecord:
    """The user behind an identity, created on first login; refreshes the identity's metadata."""
    store = services.store
    for _ in range(3):
        user_id = await store.find_user_by_identity(identity.provider_type, identity.id)
        if user_id is None:
            user = UserRecord(new_id(), user_type, False, time.time())
            try:
                await store.create_user(user, identity)
            except Conflict:
                continue  # Another request created it at the same moment: look it up again.
            user_id = user.id
        elif identity.data:
            await store.update_identity_data(identity.provider_type, identity.id, identity.data)
        record = await store.get_user(user_id)
        if record is not None:
            return record
    raise ApiError(ErrorCode.INTERNAL_SERVER_ERROR, 500, "could not create the user")


async def link_identity(services: Services, user: UserRecord, identity: Identity) -> UserRecord:
    """Add an identity to a user; refuse one that belongs to anybody already."""
    identity_limits.check_room(user, identity.provider_type)
    owner = await services.store.find_user_by_identity(identity.provider_type, identity.id)
    if owner == user.id:
        raise ApiError(ErrorCode.IDENTITY_ALREADY_LINKED, 409,
                       "identity is already linked to this user")
    if owner is not None:
        raise ApiError(ErrorCode.IDENTITY_ALREADY_LINKED, 409,
                       "a user already exists with the specified provider identity")
    try:
        await services.store.add_identity(user.id, identity)
    except Conflict as exc:
        raise ApiError(ErrorCode.IDENTITY_ALREADY_LINKED, 409,
                       "a user already exists with the specified provider identity") from exc
    record = await services.store.get_user(user.id)
    if record is None:
        raise ApiError(ErrorCode.INVALID_SESSION, 401, "invalid session: user not found")
    audit.record(services, audit.LINK, user_id=user.id, provider=identity.provider_type)
    return record


def profile_data(user: UserRecord) -> dict[str, Any]:
    """Metadata merged from all identities, oldest first, then the user's own data."""
    data: dict[str, Any] = {}
    for ident in user.identities:
        data.update(ident.data)
    data.update(user.data)
    return data


def profile(services: Services, user: UserRecord) -> dict[str, Any]:
    """The profile JSON of ``GET /auth/profile``."""
    return {
        "user_id": user.id,
        "domain_id": provider_id(services, "domain"),
        "type": user.type,
        "identities": [
            {"id": i.id, "provider_type": i.provider_type, "provider_id": i.provider_id,
             **({"provider_data": i.data} if i.data else {})}
            for i in user.identities
        ],
        "data": profile_data(user),
    }


def _custom_data_config(services: Services) -> tuple[str, str] | None:
    cfg = services.settings.custom_user_data
    if not cfg.get("enabled", False):
        return None
    return str(cfg.get("collection", "custom_user_data")), str(cfg.get("user_id_field", "user_id"))


async def read_custom_data(services: Services, user_id: str) -> dict[str, Any] | None:
    """The custom user data document of a user, or ``None`` (or when the feature is off)."""
    cfg = _custom_data_config(services)
    if cfg is None:
        return None
    return await services.store.get_document(cfg[0], user_id)


async def write_custom_data(services: Services, user_id: str, doc: dict[str, Any]) -> None:
    """Replace a user's custom user data document (server side only)."""
    cfg = _custom_data_config(services)
    if cfg is None:
        raise ValueError("Custom user data is not enabled in the app config.")
    # Every access token carries the document, converted recursively (and so are function
    # results): it gets the request bodies' depth limit, checked without recursion, so that no
    # later conversion depends on how much stack happens to be left.
    ejson.check_depth(doc, ejson.MAX_DEPTH)
    custom_data_size.check_size(services, doc)
    collection, field = cfg
    await services.store.put_document(collection, user_id, {**doc, field: user_id})


async def delete_custom_data(services: Services, user_id: str) -> bool:
    """Delete a user's custom user data document."""
    cfg = _custom_data_config(services)
    return False if cfg is None else await services.store.delete_document(cfg[0], user_id)


def custom_data_collection(services: Services) -> str | None:
    """The collection of custom user data, or ``None`` when the feature is off."""
    cfg = _custom_data_config(services)
    return None if cfg is None else cfg[0]
