"""OAuth 2.0 redirect login (protocol section 3.5), sans-IO: URLs, results, and waiting for them.

The flow, as realm-web runs it (``Authenticator.ts``, ``OAuth2Helper.ts``):

1. ``new_state()`` makes 12 random lowercase letters; ``login_url`` builds
   ``…/auth/providers/<name>/login?state=…&redirect=…&device=…`` (``link=true`` and
   ``providerRedirectHeader=true`` instead of ``device`` when linking, after which the server
   answers with the provider URL in ``X-BAAS-Location``).
2. A ``WindowOpener`` (``adapters.browser.PopupOpener`` or ``PageRedirect``) opens that URL in a
   popup, or sends this page there.
3. The provider and the server end on the app's ``redirect_url`` with a ``#_baas_…`` fragment;
   the page there calls ``handle_auth_redirect()``, which stores the result under
   ``oauth2:state(<state>):result`` (realm-web's key, so either SDK's landing page serves both).
4. ``wait_for_result`` watches the storage for that key (and the popup for being closed);
   ``auth_from_result`` turns the result into tokens, or raises the server's ``_baas_error``.

Rules that must hold:

1. Only results of flows this SDK started are used: each flow leaves a pending entry under
   ``oauth2:pending``, and a result whose state has none is ignored. A crafted landing URL can
   therefore never log a victim into somebody else's account (login CSRF).
2. Nothing here touches ``js``: the browser adapter supplies the window, this module the logic,
   so all of it runs (and is tested) under CPython too. Standard library only.
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import string
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, quote

from . import routes
from .credentials import Credentials
from .errors import AppError, ErrorCode
from .fetcher import Fetcher, SessionHolder
from .storage import Storage
from .tokens import AuthResponse

STATE_LENGTH = 12
#: How often the storage and the popup are looked at while waiting.
POLL_SECONDS = 0.1
#: Pending flows older than this are forgotten (the server refuses them after 10 minutes).
PENDING_SECONDS = 15 * 60
PENDING_KEY = "oauth2:pending"
REDIRECT_LOCATION = "x-baas-location"
# The fragment keys and the names of the stored result (realm-web's REDIRECT_HASH_TO_RESULT);
# "_baas_error_code" is Latchkey's own addition, ignored by realm-web.
_FRAGMENT_KEYS = {
    "_baas_client_app_id": "appId",
    "_baas_ua": "userAuth",
    "_baas_link": "link",
    "_baas_error": "error",
    "_baas_error_code": "errorCode",
    "_baas_state": "state",
}
# encodeURIComponent leaves these unescaped; realm-web's query strings are built with it.
_URI_COMPONENT_SAFE = "-_.!~*'()"


class AuthWindow(Protocol):
    """The window a redirect login runs in (a popup)."""

    @property
    def closed(self) -> bool:
        """Whether the user (or anybody) has closed it."""
        ...

    def close(self) -> None:
        """Close it."""
        ...


class WindowOpener(Protocol):
    """Opens the provider's login page: in a popup, or in place of this page.

    ``replaces_page`` tells which: an opener that replaces the page returns ``None`` from
    ``open``, and the login finishes after the page comes back, in
    ``App.complete_redirect_log_in``.
    """

    @property
    def replaces_page(self) -> bool:
        """Whether ``open`` navigates this page away instead of opening a window."""
        ...

    def open(self, url: str) -> AuthWindow | None:
        """Open ``url``; raise ``OSError`` when that is impossible (a blocked popup)."""
        ...


@dataclass(frozen=True, slots=True)
class RedirectResult:
    """What the landing page found in its fragment."""

    state: str
    app_id: str | None = None
    user_auth: str | None = None
    link: str | None = None
    error: str | None = None
    error_code: str | None = None

    def to_json(self) -> dict[str, str]:
        """The stored form, realm-web's ``{appId, userAuth, state, link?, error?}``."""
        out = {"state": self.state, "appId": self.app_id, "userAuth": self.user_auth,
               "link": self.link, "error": self.error, "errorCode": self.error_code}
        return {k: v for k, v in out.items() if v}

    @classmethod
    def from_json(cls, value: Any) -> RedirectResult:
        """Read the stored form; ``ValueError`` when it is not one."""
        if not isinstance(value, dict) or not isinstance(value.get("state"), str):
            raise ValueError("The stored OAuth 2.0 result has no state.")
        text = {k: v for k, v in value.items() if isinstance(v, str)}
        return cls(text["state"], text.get("appId"), text.get("userAuth"), text.get("link"),
                   text.get("error"), text.get("errorCode"))


def new_state() -> str:
    """A fresh client state: 12 random lowercase letters, as realm-web makes them."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(STATE_LENGTH))


def encode_device(info: dict[str, Any]) -> str:
    """The ``device`` query value: base64 of the device JSON, the device id as plain hex."""
    plain = {k: (str(v) if k == "deviceId" else v) for k, v in info.items()}
    return base64.b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode("ascii")


def login_path(app_id: str, provider_name: str, *, state: str, redirect_url: str,
               device: str | None = None, link: bool = False) -> str:
    """The path and query that start a redirect login (or link), in realm-web's key order."""
    params = [("link", "true" if link else None), ("state", state), ("redirect", redirect_url),
              ("providerRedirectHeader", "true" if link else None),
              ("device", None if link else device)]
    query = "&".join(f"{k}={quote(v, safe=_URI_COMPONENT_SAFE)}" for k, v in params if v)
    return f"{routes.login(app_id, provider_name)}?{query}"


def parse_fragment(fragment: str) -> RedirectResult | None:
    """The result in a landing page's ``location.hash``; ``None`` when it carries none.

    Raises ``ValueError`` for a fragment with ``_baas_`` keys but no state.
    """
    values = dict(parse_qsl(fragment.lstrip("#?"), keep_blank_values=True))
    found = {name: values[key] for key, name in _FRAGMENT_KEYS.items() if values.get(key)}
    if not found:
        return None
    if "state" not in found:
        detail = f": {found['error']}" if "error" in found else "."
        raise ValueError(f"Failed to handle OAuth 2.0 redirect{detail}")
    return RedirectResult.from_json(found)


def _result_key(state: str) -> str:
    return f"oauth2:state({state}):result"


def handle_redirect(fragment: str, storage: Storage) -> RedirectResult | None:
    """Store the result a landing page's fragment carries, for the window waiting for it."""
    result = parse_fragment(fragment)
    if result is not None:
        storage.set(_result_key(result.state), json.dumps(result.to_json()))
    return result


def take_result(storage: Storage, state: str) -> RedirectResult | None:
    """The stored result of a flow, removed as it is read."""
    key = _result_key(state)
    text = storage.get(key)
    if text is None:
        return None
    storage.remove(key)
    try:
        return RedirectResult.from_json(json.loads(text))
    except ValueError:
        return None


def pending(storage: Storage) -> dict[str, dict[str, Any]]:
    """The flows this SDK started and has not finished, by state (old ones dropped)."""
    try:
        entries = json.loads(storage.get(PENDING_KEY) or "{}")
    except ValueError:
        entries = {}
    if not isinstance(entries, dict):
        return {}
    horizon = time.time() - PENDING_SECONDS
    return {s: e for s, e in entries.items()
            if isinstance(e, dict) and isinstance(e.get("started"), int | float)
            and e["started"] > horizon}


def mark_pending(storage: Storage, state: str, **info: Any) -> None:
    """Remember a flow we started: its app, provider, mode and the linking user, if any."""
    entries = pending(storage)
    entries[state] = {**info, "started": time.time()}
    storage.set(PENDING_KEY, json.dumps(entries))


def forget_pending(storage: Storage, state: str) -> None:
    """Forget a finished (or abandoned) flow."""
    entries = pending(storage)
    entries.pop(state, None)
    storage.set(PENDING_KEY, json.dumps(entries))


async def wait_for_result(
    storage: Storage,
    state: str,
    window: AuthWindow,
    *,
    interval: float = POLL_SECONDS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> RedirectResult:
    """Wait until the landing page stores the flow's result, then close the window.

    Raises ``AppError`` (``ErrorCode.WINDOW_CLOSED``) when the window closes first.
    """
    while True:
        result = take_result(storage, state)
        if result is None and window.closed:
            # The landing page may have stored the result just before the window closed.
            result = take_result(storage, state)
            if result is None:
                raise AppError.redirect("Window closed", ErrorCode.WINDOW_CLOSED.value)
        if result is not None:
            try:
                window.close()
            except Exception:  # noqa: BLE001 (a window that cannot be closed is no failure)
                pass
            return result
        await sleep(interval)


def auth_from_result(result: RedirectResult, app_id: str) -> AuthResponse:
    """The tokens a redirect result carries, or the ``AppError`` the server reported."""
    if result.error:
        raise AppError.redirect(result.error, result.error_code)
    if result.app_id is not None and result.app_id != app_id:
        raise AppError.redirect(f"The redirect result is for app {result.app_id}, not {app_id}.")
    parts = (result.user_auth or "").split("$")
    if len(parts) != 4 or not all(parts[i] for i in (0, 2, 3)):
        raise AppError.redirect("Failed to decode 'authInfo' into ids and tokens")
    access, refresh, user_id, device_id = parts
    return AuthResponse(user_id, access, refresh or None, device_id)


def redirect_location(headers: dict[str, str]) -> str:
    """The provider URL of a link answer's ``X-BAAS-Location`` header."""
    for name, value in headers.items():
        if name.lower() == REDIRECT_LOCATION and value:
            return value
    raise AppError.redirect(f"Missing {REDIRECT_LOCATION} header")


async def redirect_auth(
    fetcher: Fetcher,
    storage: Storage,
    opener: WindowOpener | None,
    credentials: Credentials,
    device: dict[str, Any],
    link_user: SessionHolder | None = None,
) -> AuthResponse:
    """Run a redirect login (or, with ``link_user``, a link) and return its tokens.

    With an opener that replaces the page, this never returns: the page navigates away, and
    ``App.complete_redirect_log_in`` finishes the login when the app's page loads again.
    """
    if opener is None:
        raise ValueError("A redirect login needs a window opener: "
                         "App(..., window_opener=PopupOpener()) in the browser.")
    assert credentials.redirect_url is not None
    state = new_state()
    path = login_path(fetcher.app_id, credentials.provider_name, state=state,
                      redirect_url=credentials.redirect_url, device=encode_device(device),
                      link=link_user is not None)
    if link_user is None:
        url = await fetcher.location_url() + path
    else:
        answer = await fetcher.fetch_response("GET", path, token_type="access", user=link_user)
        url = redirect_location(answer.headers)
    mode = "page" if opener.replaces_page else "popup"
    mark_pending(storage, state, app_id=fetcher.app_id, provider=credentials.provider_type,
                 mode=mode, link=link_user.id if link_user is not None else None)
    try:
        window = opener.open(url)
    except OSError as exc:
        forget_pending(storage, state)
        raise AppError.redirect(f"could not open the login window: {exc}",
                                ErrorCode.WINDOW_CLOSED.value) from exc
    if window is None:
        # This page is going away; nothing after this line would ever run.
        await asyncio.get_running_loop().create_future()
        raise AssertionError("unreachable")
    try:
        result = await wait_for_result(storage, state, window)
    finally:
        forget_pending(storage, state)
    return auth_from_result(result, fetcher.app_id)


PageFlow = tuple[dict[str, Any], AuthResponse | AppError]


def finished_page_flows(storage: Storage, app_id: str) -> list[PageFlow]:
    """The full-page flows of ``app_id`` whose result has arrived, each with its tokens or error.

    Each is taken (forgotten) as it is returned.
    """
    done: list[PageFlow] = []
    for state, info in pending(storage).items():
        if info.get("app_id") != app_id or info.get("mode") != "page":
            continue
        result = take_result(storage, state)
        if result is None:
            continue
        forget_pending(storage, state)
        try:
            done.append((info, auth_from_result(result, app_id)))
        except AppError as err:
            done.append((info, err))
    return done
