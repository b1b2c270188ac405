"""The browser redirect flow of social login (protocol section 3.5), server side.

1. ``start``: the client's ``GET .../auth/providers/<name>/login?state=&redirect=&device=``
   (with ``link=true`` and the user's access token when linking). We check ``redirect`` against
   the allowlist, keep a state record and answer with the provider's authorize URL, which
   carries *our* ``state``, a ``nonce`` and (where the provider supports it) a PKCE challenge.
2. ``finish``: the provider sends the browser to our callback with ``code`` and our ``state``.
   We take the state record, exchange the code, check the ID token (with the record's nonce),
   log the person in (or link them to the user who started the flow) and answer with the
   app's ``redirect`` URL plus the ``_baas_*`` fragment: ``_baas_ua`` =
   ``access$refresh$userId$deviceId`` on success, ``_baas_error`` on failure, and always
   ``_baas_client_app_id`` and ``_baas_state`` (the client's own state).

Rule 1: a state record is used once. It lives in the store's ``documents`` table (collection
``oauth_state``), so every server process behind one address can finish a flow that another
started; taking it deletes it, and only the request whose delete succeeded goes on. A record
older than ``[oauth] state_seconds`` (10 minutes) is refused. Records of flows that were never
finished are swept by the process that made them.

Rule 2: the app's ``redirect`` URL must be on the allowlist before anything is stored, and an
unknown, reused or expired state answers with an error of our own, never a redirect: without a
valid record we do not know where it would be safe to send the browser.

Rule 3: linking ties the callback to the linking user through the state record (user, session
and device); the session must still be alive when the callback arrives. The link's ``_baas_ua``
carries a new access token and an empty refresh token (clients keep theirs).

Rule 4: every flow, link or login, is bound to the browser that started it. ``start`` makes a
random nonce, keeps only its SHA-256 in the state record and hands the nonce to the route, which
sets it as a cookie (``BrowserBinding``: HttpOnly, path of our callback only, as long as the
state lives). ``finish`` refuses a callback whose browser does not send the matching cookie,
before anything is exchanged, linked or logged in. Otherwise a victim who opens an authorize URL
(or a callback URL) of a flow an attacker started would link their identity to the attacker's
account, or be logged in as the attacker. Each flow has its own cookie name (from its state), so
flows in several tabs do not overwrite each other.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from app.sdk import routes
from app.sdk.errors import ErrorCode

from ..errors import ApiError
from ..oauth_settings import OAuthProviderSettings
from . import ratelimit, sessions, social, users
from .context import Services
from .sessions import Caller

STATE_COLLECTION = "oauth_state"
_CLIENT_STATE = re.compile(r"^[A-Za-z0-9._~-]{1,128}$")
_MAX_DEVICE = 4096
_MAX_ERROR = 300
_PENDING = "oauth:pending-states"
_BINDING_PREFIX = "latchkey-oauth-"


@dataclass(frozen=True, slots=True)
class BrowserBinding:
    """The cookie that binds a flow to the browser that started it (Rule 4).

    ``secure`` follows the callback URL's scheme. A secure cookie is ``SameSite=None``: Apple
    returns by a cross-site form POST, which never carries a ``Lax`` cookie, and realm-web on
    another site stores the cookie from a credentialed ``fetch`` only when it is ``None``. The
    cookie proves possession and grants nothing, so sending it cross-site gives nobody anything.
    Browsers drop ``SameSite=None`` without ``Secure``, so plain http gets ``Lax``.
    """

    name: str
    value: str = ""
    path: str = "/"
    max_age: int = 0
    secure: bool = False

    @property
    def same_site(self) -> Literal["lax", "none"]:
        """The ``SameSite`` attribute: ``none`` for a secure cookie, else ``lax``."""
        return "none" if self.secure else "lax"


def binding_name(state: str) -> str:
    """The cookie name of the flow with our ``state`` (a digest: the state is not repeated)."""
    return _BINDING_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:16]


def _digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def foreign_browser() -> ApiError:
    """The answer to a callback from a browser other than the one that started the flow."""
    return ApiError(ErrorCode.INVALID_PARAMETER, 400,
                    "invalid OAuth state: this sign-in was started in another browser (or its "
                    "cookie was blocked); start the login again in this browser")


def bad_state() -> ApiError:
    """The answer to an unknown, reused or expired ``state`` at our callback."""
    return ApiError(ErrorCode.INVALID_PARAMETER, 400,
                    "invalid OAuth state: unknown, already used or expired; start the login again")


def device_id(encoded: str | None) -> str:
    """The device id in the ``device`` parameter (base64 of the device JSON), else a new one."""
    if not encoded or len(encoded) > _MAX_DEVICE:
        return users.new_id()
    try:
        info = json.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        return users.new_id()
    return sessions.device_id_from({"device": info} if isinstance(info, dict) else None)


async def start(services: Services, name: str, *, client_state: str | None,
                redirect: str | None, device: str | None, callback_url: str,
                caller: Caller | None = None) -> tuple[str, BrowserBinding]:
    """Remember the flow; the provider's authorize URL to send the browser to, and the cookie
    that the browser must bring back to our callback (Rule 4)."""
    cfg = social.settings_for(services, name)
    if client_state is None or not _CLIENT_STATE.match(client_state):
        raise ApiError(ErrorCode.INVALID_PARAMETER, 400,
                       "expected a 'state' of up to 128 letters, digits or ._~- characters")
    if not redirect or redirect not in cfg.redirect_uris:
        shown = (redirect or "")[:200]
        raise ApiError(ErrorCode.INVALID_PARAMETER, 400,
                       f"redirect URL '{shown}' is not allowed for {name}; "
                       "add it to redirect_uris in the app config")
    ends = await social.endpoints(services, cfg)
    if not ends.authorization:
        raise social.refused(cfg, "this provider has no authorization endpoint")
    state = secrets.token_urlsafe(32)
    nonce = secrets.token_urlsafe(32)
    record: dict[str, Any] = {
        "provider": name, "client_state": client_state, "redirect": redirect,
        "callback_url": cfg.callback_url or callback_url,
        "verifier": generate_token(64) if cfg.pkce else "",
        "nonce": secrets.token_urlsafe(24),
        "expires_at": time.time() + services.settings.oauth_state_seconds,
        "device_id": caller.device_id if caller else device_id(device),
        "link": None if caller is None else {"user_id": caller.user.id,
                                             "session_id": caller.session_id},
        "browser": _digest(nonce),
    }
    await _sweep(services)
    await services.store.put_document(STATE_COLLECTION, state, record)
    _pending(services)[state] = record["expires_at"]
    callback = urlsplit(record["callback_url"])
    binding = BrowserBinding(binding_name(state), nonce, callback.path or "/",
                             max(1, round(services.settings.oauth_state_seconds)),
                             callback.scheme == "https")
    return _authorize_url(cfg, ends.authorization, state, record), binding


def _authorize_url(cfg: OAuthProviderSettings, endpoint: str, state: str,
                   record: dict[str, Any]) -> str:
    extra: dict[str, str] = {"nonce": record["nonce"]}
    if record["verifier"]:
        extra["code_challenge"] = create_s256_code_challenge(record["verifier"])
        extra["code_challenge_method"] = "S256"
    if cfg.response_mode:
        extra["response_mode"] = cfg.response_mode
    url: str = prepare_grant_uri(endpoint, cfg.client_id, "code",
                                 redirect_uri=record["callback_url"],
                                 scope=" ".join(cfg.scopes), state=state, **extra)
    return url


async def finish(services: Services, params: dict[str, str], cookies: dict[str, str]) -> str:
    """Complete a flow at our callback; the app's redirect URL with the ``_baas_*`` fragment.

    ``cookies`` are the request's; the flow's binding cookie must be among them (Rule 4).
    """
    state = params.get("state", "")
    record = await take_state(services, state)
    if record is None:
        raise bad_state()
    nonce = cookies.get(binding_name(state), "")
    expected = record.get("browser")
    # The record is gone already, so a refused callback cannot be retried from elsewhere.
    if not nonce or not isinstance(expected, str) \
            or not hmac.compare_digest(_digest(nonce), expected):
        raise foreign_browser()
    fragment: dict[str, str] = {"_baas_client_app_id": services.settings.app_id}
    try:
        fragment.update(await _complete(services, record, params))
    except ApiError as exc:
        fragment["_baas_error"] = exc.message
        fragment["_baas_error_code"] = exc.code.value
    fragment["_baas_state"] = str(record["client_state"])
    encoded = "&".join(f"{key}={quote(value, safe='')}" for key, value in fragment.items())
    return f"{record['redirect']}#{encoded}"


async def take_state(services: Services, state: str) -> dict[str, Any] | None:
    """The state record, deleted as it is read; ``None`` when unknown, used or expired."""
    if not state or len(state) > 128:
        return None
    record = await services.store.get_document(STATE_COLLECTION, state)
    # Only the request that deletes the record may use it: a replayed callback racing the
    # genuine one finds it gone.
    if record is None or not await services.store.delete_document(STATE_COLLECTION, state):
        return None
    _pending(services).pop(state, None)
    expires = record.get("expires_at")
    if not isinstance(expires, int | float) or expires <= time.time():
        return None
    return record


async def _complete(services: Services, record: dict[str, Any],
                    params: dict[str, str]) -> dict[str, str]:
    cfg = social.settings_for(services, str(record["provider"]))
    if params.get("error"):
        text = params.get("error_description") or params["error"]
        raise social.refused(cfg, f"the provider answered: {text[:_MAX_ERROR]}")
    code = params.get("code")
    if not code:
        raise social.refused(cfg, "the provider sent no authorization code")
    tokens = await social.exchange_code(services, cfg, code, redirect_uri=record["callback_url"],
                                        code_verifier=record["verifier"] or None)
    claims = await social.claims_from_tokens(services, cfg, tokens, nonce=record["nonce"])
    identity = await social.keep_once_only_data(
        services, cfg, social.identity_for(services, cfg, claims, _apple_user(cfg, params)))
    await ratelimit.identity_login(services, identity)
    link = record.get("link")
    if isinstance(link, dict):
        return await _link(services, link, str(record["device_id"]), identity)
    user = await users.login_identity(services, identity)
    if user.disabled:
        raise ApiError(ErrorCode.USER_DISABLED, 401, "user disabled")
    session = await sessions.open_session(services, user, str(record["device_id"]),
                                          provider=cfg.name)
    ua = [session["access_token"], session["refresh_token"], session["user_id"],
          session["device_id"]]
    return {"_baas_ua": "$".join(ua)}


async def _link(services: Services, link: dict[str, Any], device: str,
                identity: Any) -> dict[str, str]:
    session = await services.store.get_session(str(link.get("session_id")))
    user = await services.store.get_user(str(link.get("user_id")))
    if (session is None or user is None or session.user_id != user.id
            or session.expires_at <= time.time()):
        raise ApiError(ErrorCode.INVALID_SESSION, 401,
                       "invalid session: the user who started linking has logged out")
    user = await users.link_identity(services, user, identity)
    access = await sessions.access_token(services, user.id, session.id, device)
    return {"_baas_ua": f"{access}$${user.id}${device}", "_baas_link": "ok"}


def _apple_user(cfg: OAuthProviderSettings, params: dict[str, str]) -> dict[str, Any]:
    # Apple posts the user's name (never again after the first sign-in) as JSON in "user".
    if cfg.kind != routes.OAUTH2_APPLE or not params.get("user"):
        return {}
    try:
        user = json.loads(params["user"])
    except ValueError:
        return {}
    name = user.get("name") if isinstance(user, dict) else None
    if not isinstance(name, dict):
        return {}
    first, last = name.get("firstName"), name.get("lastName")
    data = {k: v for k, v in (("first_name", first), ("last_name", last))
            if isinstance(v, str) and v}
    if data:
        data["name"] = " ".join(v for v in (first, last) if isinstance(v, str) and v)
    return data


def _pending(services: Services) -> dict[str, float]:
    pending = services.extras.setdefault(_PENDING, {})
    assert isinstance(pending, dict)
    return pending


async def _sweep(services: Services) -> None:
    # Flows nobody finished (the user closed the popup) leave a record; the process that
    # made it deletes it once it has expired.
    pending = _pending(services)
    now = time.time()
    for state in [s for s, expires in pending.items() if expires <= now]:
        pending.pop(state, None)
        await services.store.delete_document(STATE_COLLECTION, state)
