"""Config strings that type-check but can never work, refused at start by name.

``config_check`` checks keys, types and number ranges; this module checks the few strings whose
form matters: ``app_id`` (it is a path segment of every client route, so App Services allows
only ASCII letters, digits, ``-`` and ``_``), the mail link bases ``confirm_url`` and
``reset_url`` (a mail's link must be an absolute http(s) URL: a ``javascript:`` URL or a
relative path is dead or worse in a mail client), and the custom user data's ``collection`` and
``user_id_field`` (an empty name matches no document, so nobody would ever have custom data).

Parsing only: nothing here touches the network or the file system.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .config_check import ConfigError

__all__ = ["check_values"]

# App Services app names hold ASCII letters, digits, "-" and "_"; the client app id is the
# name plus "-" and five more letters. 64 leaves room for any of them.
APP_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_values(raw: Mapping[str, Any]) -> None:
    """Raise ``ConfigError`` naming the first key whose string can never work."""
    app_id = raw.get("app_id")
    if isinstance(app_id, str) and app_id and not APP_ID.fullmatch(app_id):
        raise ConfigError(f"app_id = {app_id[:80]!r} is not allowed: an app id holds only ASCII "
                          "letters, digits, '-' and '_' (as App Services app ids do), 1 to 64 "
                          "characters, e.g. \"myapp-abcde\".")
    userpass = (raw.get("providers") or {}).get("local-userpass")
    if isinstance(userpass, dict):
        for key in ("confirm_url", "reset_url"):
            _mail_link(key, userpass.get(key))
    custom = raw.get("custom_user_data")
    if isinstance(custom, dict):
        for key in ("collection", "user_id_field"):
            value = custom.get(key)
            if isinstance(value, str) and (not value.strip() or value.startswith("$")):
                raise ConfigError(f"[custom_user_data] {key} = {value[:80]!r} is not allowed: "
                                  "it must be a field or collection name, not empty and not "
                                  "starting with '$'.")


def _mail_link(key: str, value: Any) -> None:
    if not isinstance(value, str) or not value:
        return  # Unset: the server's own confirm.html / reset.html.
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 (raises ValueError for a bad port)
        bad_port = False
    except ValueError:
        bad_port = True
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment
            or "#" in value or "@" in parts.netloc or bad_port or any(c.isspace() for c in value)):
        raise ConfigError(f"[providers.local-userpass] {key} = {value[:80]!r} is not allowed: "
                          "it starts the link of a mail, so it must be an absolute http:// or "
                          "https:// URL with a host and no fragment or user name, e.g. "
                          "\"https://example.com/confirm\".")
