"""The demo app's server functions.

Every public function receives a context (``context.user``, ``context.get_custom_data``,
``context.set_custom_data``) and the call's arguments. Names in ``PRIVATE`` run only on the
server's behalf (confirmation, reset, custom authentication), never for a client.
"""

from __future__ import annotations

from typing import Any

PRIVATE = {"confirm_user", "reset_password", "authenticate"}
MAX_COLOR = 64

_TRANSLATIONS = {
    ("hello", "en_fr"): "bonjour",
    ("bonjour", "fr_en"): "hello",
}


def translate(context: Any, text: str, pair: str) -> str:
    """Translate a word between English and French (the official SDK tests' function)."""
    try:
        return _TRANSLATIONS[(text, pair)]
    except KeyError:
        raise ValueError(f"no translation of {text!r} for {pair!r}") from None


def whoami(context: Any) -> dict[str, Any]:
    """The calling user's id and identity provider types."""
    user = context.user
    return {"id": user.id, "providers": [i["provider_type"] for i in user.identities]}


async def set_favorite_color(context: Any, color: str) -> dict[str, Any]:
    """Write the caller's custom user data; a refresh of custom data then shows it."""
    # Custom user data rides in every access token: an unbounded color let any visitor make
    # their tokens 80 KB, past what proxies accept in a header (found in review).
    if len(str(color)) > MAX_COLOR:
        raise ValueError(f"a color name is at most {MAX_COLOR} characters")
    doc = await context.get_custom_data(context.user.id) or {}
    doc["favorite_color"] = str(color)
    await context.set_custom_data(context.user.id, doc)
    return doc


def confirm_user(context: Any, request: dict[str, Any]) -> dict[str, str]:
    """Confirmation function: confirm addresses at example.com, leave others pending."""
    return {"status": "success" if request["username"].endswith("@example.com") else "pending"}


def reset_password(context: Any, request: dict[str, Any], *args: Any) -> dict[str, str]:
    """Reset function: succeed when the first argument is "let me in"."""
    return {"status": "success" if args and args[0] == "let me in" else "fail"}


def authenticate(context: Any, payload: dict[str, Any]) -> Any:
    """Custom function authentication: a username and the shared demo secret."""
    if payload.get("secret") != "v3ry-s3cret" or not payload.get("username"):
        raise PermissionError("invalid credentials")
    return {"id": str(payload["username"]), "name": str(payload["username"])}
