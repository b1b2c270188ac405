"""The one app this server serves, as the Admin API lists it, and its stable ids.

The group (Atlas project) id and the app's ``_id`` are derived from the client App ID (the first
24 hex digits of a SHA-256), not stored: every process and every restart agrees on them without
a write, a store copied elsewhere keeps them, and only a new App ID (a new app) changes them.

HTTP-free.
"""

from __future__ import annotations

import hashlib
from typing import Any

from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..services.context import Services

#: What the app's ``location`` and ``deployment_model`` say, as the client API's location does.
LOCATION = "self-hosted"
DEPLOYMENT_MODEL = "LOCAL"
PRODUCT = "standard"


def _derived(services: Services, what: str) -> str:
    text = f"latchkey/{services.settings.app_id}/{what}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def group_id(services: Services) -> str:
    """The group (project) id this server answers for."""
    return _derived(services, "group")


def app_object_id(services: Services) -> str:
    """The app's ``_id`` in the Admin API (its client App ID is ``settings.app_id``)."""
    return _derived(services, "app")


def check_group(services: Services, group: str) -> None:
    """404 ``GroupNotFound`` unless ``group`` is this server's group id."""
    if group != group_id(services):
        raise ApiError(ErrorCode.GROUP_NOT_FOUND, 404, "group not found")


def check_app(services: Services, group: str, app: str) -> None:
    """404 unless the path names this server's group and app."""
    check_group(services, group)
    if app != app_object_id(services):
        raise ApiError(ErrorCode.APP_NOT_FOUND, 404, "app not found")


def describe(services: Services) -> dict[str, Any]:
    """The app as ``GET /groups/{group_id}/apps`` lists it."""
    app_id = services.settings.app_id
    return {
        "_id": app_object_id(services),
        "client_app_id": app_id,
        "name": app_id,
        "group_id": group_id(services),
        "domain_id": group_id(services),
        "location": LOCATION,
        "deployment_model": DEPLOYMENT_MODEL,
        "product": PRODUCT,
    }


def list_apps(services: Services, product: str | None) -> list[dict[str, Any]]:
    """The apps of the group: this one, unless another ``product`` is asked for (the CLI asks
    for ``standard`` and then ``atlas`` apps, and must not see this one twice)."""
    return [describe(services)] if product in (None, "", PRODUCT) else []
