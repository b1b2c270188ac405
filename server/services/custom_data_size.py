"""The size limit of a custom user data document: ``[custom_user_data] max_bytes``.

Every access token carries the user's document (``user_data``, relaxed EJSON), and every request
carries the token in its ``Authorization`` header. Without a limit a function writing a large
document made 80 KB tokens, which proxies refuse with their own HTML error (nginx reads header
lines into 8 KB buffers by default). The document's size is its compact relaxed-EJSON JSON, as
the token holds it before base64url (which adds a third); the default 16 KiB makes tokens of
at most about 22.5 KB, which ``deploy/nginx.conf``'s 32 KB header buffers take. Every writer
(functions, ``serve.py custom-data set``, the Admin API, ``import-custom-data``) goes through
``users.write_custom_data``, which calls ``check_size``.

HTTP-free; raises ``ApiError`` for the route to render.
"""

from __future__ import annotations

import json
from typing import Any

from app.sdk.errors import ErrorCode

from .. import ejson
from ..errors import ApiError
from .context import Services

__all__ = ["DEFAULT_MAX_BYTES", "check_size", "size_of"]

DEFAULT_MAX_BYTES = 16 * 1024


def size_of(doc: dict[str, Any]) -> int:
    """The bytes ``doc`` takes in an access token's ``user_data`` claim (before base64url)."""
    relaxed = ejson.to_relaxed({k: v for k, v in doc.items() if k != "_id"})
    return len(json.dumps(relaxed, separators=(",", ":")).encode())


def check_size(services: Services, doc: dict[str, Any]) -> None:
    """Raise 413 ``RequestTooLarge`` if ``doc`` is over ``[custom_user_data] max_bytes``."""
    limit = int(services.settings.custom_user_data.get("max_bytes", DEFAULT_MAX_BYTES))
    size = size_of(doc)
    if size > limit:
        raise ApiError(ErrorCode.REQUEST_TOO_LARGE, 413,
                       f"custom user data of {size} bytes is over the limit of {limit} bytes "
                       "([custom_user_data] max_bytes): every access token carries it")
