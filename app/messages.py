"""Words for people: what a failed request means, and how users and providers are named.

The pages (``app/main.py``) and the embed bridge (``app/embed.py``) both show these texts, so
they live here, apart from any DOM code. Standard library and ``app.sdk`` only: this module
imports under CPython, where ``tests/e2e/test_ui_messages.py`` checks it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from app.sdk import AppError, ErrorCode, User, UserState
from app.sdk.providers import AuthProviderInfo

#: Server texts of the three ways a confirmation or reset link can fail (``UserpassTokenInvalid``).
TOKEN_EXPIRED = "token expired"
TOKEN_USED = "token already used"
TOKEN_INVALID = "invalid token data"

PROVIDER_NAMES = {
    "anon-user": "Anonymous",
    "local-userpass": "Email and password",
    "api-key": "API key",
    "custom-token": "Single sign-on (JWT)",
    "custom-function": "Custom login",
    "oauth2-google": "Google",
    "oauth2-apple": "Apple",
    "oauth2-facebook": "Facebook",
    "oidc": "OpenID Connect",
    "passkey": "Passkey",
}

STATE_NAMES = {
    UserState.LOGGED_IN: "Signed in",
    UserState.LOGGED_OUT: "Signed out",
    UserState.REMOVED: "Removed",
}

UNREACHABLE = "Can't reach the server. Check your connection and try again in a moment."
WRONG_PASSWORD = "That email and password don't match. Check both and try again."
TOO_MANY = "Too many attempts. Wait a few minutes, then try again."
ACCOUNT_EXISTS = (
    "There is already an account with this email. Sign in instead, or reset its password."
)
CONFIRM_FIRST = "Confirm your email address first: open the link we sent you, then sign in."
BAD_EMAIL = "That doesn't look like an email address."
PASSWORD_LENGTH = "Use a password of 6 to 128 characters."
SESSION_ENDED = "Your session has ended. Sign in again."

# Checks of what people type (the page's ``app.fields`` and the embed's bridge share them).
ENTER_EMAIL = "Enter your email address."
ENTER_PASSWORD = "Enter your password."


def email_problem(email: str) -> str | None:
    """What is wrong with an email address as typed (already trimmed), or ``None``."""
    if not email:
        return ENTER_EMAIL
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in email):
        return BAD_EMAIL
    return None


def password_problem(password: str, *, new: bool) -> str | None:
    """What is wrong with a password; a ``new`` one must be 6 to 128 characters."""
    if not password:
        return PASSWORD_LENGTH if new else ENTER_PASSWORD
    if new and not 6 <= len(password) <= 128:
        return PASSWORD_LENGTH
    return None

SERVER_TROUBLE = "The server ran into a problem. Try again in a moment."

# Per action, what a 401 ``InvalidPassword`` (the server's answer to any refused login) means.
_REFUSED = {
    "login": WRONG_PASSWORD,
    "link": WRONG_PASSWORD,
    "apikey": "That API key isn't valid, or it has been disabled or deleted.",
}


def provider_name(provider_type: str) -> str:
    """A provider type as people say it: ``local-userpass`` is "Email and password"."""
    return PROVIDER_NAMES.get(provider_type, provider_type)


def social_label(provider: AuthProviderInfo) -> str:
    """A social provider as its button names it: its display name, else its type's name."""
    return provider.display_name or provider_name(provider.type)


def state_name(state: UserState) -> str:
    """``LOGGED_IN`` is "Signed in", and so on."""
    return STATE_NAMES.get(state, str(state))


def user_label(user: User) -> str:
    """How to name a user: its name, else its email, else what kind of user it is."""
    profile = user.profile
    name = profile.name or " ".join(p for p in (profile.first_name, profile.last_name) if p)
    if name:
        return name
    if profile.email:
        return profile.email
    if user.provider_type == "anon-user":
        return "Anonymous user"
    return f"{provider_name(user.provider_type)} user"


def picture_url(user: User) -> str | None:
    """The user's picture from a social login provider, if it is an ``http(s)`` URL.

    Anything else (``javascript:``, ``data:``, a relative path, text with spaces) is ``None``,
    so the page never puts it into an ``<img src>``.
    """
    url = user.profile.picture_url
    if not isinstance(url, str) or not url or len(url) > 2048:
        return None
    if any(ch.isspace() or ord(ch) < 32 or ch in "\"<>\\" for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def token_outcome(err: AppError) -> str | None:
    """For a failed confirmation or reset: ``"expired"``, ``"used"``, ``"invalid"`` or ``None``."""
    if err.code is not ErrorCode.USERPASS_TOKEN_INVALID:
        return None
    if TOKEN_EXPIRED in err.error:
        return "expired"
    if TOKEN_USED in err.error:
        return "used"
    return "invalid"


def friendly(err: AppError, action: str = "") -> str:
    """A sentence that tells a person what went wrong with ``action`` and what to do.

    ``action`` is one of ``login``, ``register``, ``forgot``, ``apikey``, ``anon``, ``link``,
    ``function``, ``refresh``, ``logout``, ``delete``, ``confirm``, ``reset``, ``resend``,
    ``social`` (``social_text`` words the errors particular to social login).
    """
    code, text = err.code, err.error.lower()
    if code is ErrorCode.NETWORK_ERROR:
        return UNREACHABLE
    if code is ErrorCode.TOO_MANY_REQUESTS:
        return TOO_MANY
    if code is ErrorCode.INVALID_PASSWORD:
        return _REFUSED.get(action, WRONG_PASSWORD)
    if code is ErrorCode.AUTH_ERROR and "confirmation required" in text:
        return CONFIRM_FIRST
    if code is ErrorCode.AUTH_ERROR and action in _REFUSED:
        return _REFUSED[action]  # e.g. "invalid API key"
    if code is ErrorCode.ACCOUNT_NAME_IN_USE:
        return ACCOUNT_EXISTS
    if code is ErrorCode.INVALID_PARAMETER and "email" in text:
        return BAD_EMAIL
    if "password must be between" in text:
        return PASSWORD_LENGTH
    if code is ErrorCode.USER_DISABLED:
        return "This account has been disabled. Ask the app's administrator for help."
    if code is ErrorCode.USER_NOT_FOUND:
        return "There is no account with that email address."
    if code is ErrorCode.USER_ALREADY_CONFIRMED:
        return "This email address is already confirmed. You can sign in."
    if code is ErrorCode.IDENTITY_ALREADY_LINKED:
        return "That login already belongs to another account. Sign in to it instead."
    if code is ErrorCode.INVALID_SESSION:
        return SESSION_ENDED
    if code is ErrorCode.USERPASS_TOKEN_INVALID:
        return _token_text(token_outcome(err) or "invalid")
    if code is ErrorCode.AUTH_PROVIDER_NOT_FOUND:
        return "This way of signing in is switched off on this server."
    if action == "function":
        return _function_text(err)
    if err.status >= 500:
        return SERVER_TROUBLE
    detail = err.error or err.wire_code or "unknown error"
    return f"That didn't work ({detail}). Try again, or reload the page."


#: Social login texts; ``{provider}`` is the provider's name as on its button.
SOCIAL_WINDOW_CLOSED = (
    "The {provider} sign-in window was closed before you finished. Try again when you're ready."
)
SOCIAL_REFUSED = (
    "{provider} didn't let you sign in (perhaps it was cancelled there). Try again, or choose "
    "another way to sign in."
)
SOCIAL_UNREACHABLE = (
    "Can't reach {provider} right now. Try again in a moment, or choose another way to sign in."
)
SOCIAL_NOT_VERIFIED = "We couldn't check your sign-in with {provider}. Try again."
SOCIAL_PAGE_NOT_ALLOWED = (
    "This page isn't on the server's list of pages that may sign in with {provider}. "
    "Ask the app's administrator to add it ([oauth] redirect_uris)."
)
#: How a social provider is named when the page does not know which one it was.
SOME_PROVIDER = "the sign-in service"


def popup_blocked(err: AppError) -> bool:
    """Whether a redirect login failed because the browser would not open its popup."""
    return err.code is ErrorCode.WINDOW_CLOSED and isinstance(err.__cause__, OSError)


def social_text(err: AppError, provider: str = SOME_PROVIDER) -> str:
    """A sentence for a failed social login or link with ``provider`` (e.g. ``"Google"``)."""
    code, text = err.code, err.error.lower()
    if code is ErrorCode.WINDOW_CLOSED:
        # "The Google sign-in window", or just "The sign-in window".
        name = "" if provider == SOME_PROVIDER else provider
        return SOCIAL_WINDOW_CLOSED.format(provider=name).replace("  ", " ")
    if "could not reach the identity provider" in text:
        return SOCIAL_UNREACHABLE.format(provider=provider)
    if code is ErrorCode.AUTH_ERROR and "the provider answered" in text:
        return _capital(SOCIAL_REFUSED.format(provider=provider))
    if code is ErrorCode.AUTH_ERROR:
        return SOCIAL_NOT_VERIFIED.format(provider=provider)
    if code is ErrorCode.INVALID_PARAMETER and "redirect" in text:
        return SOCIAL_PAGE_NOT_ALLOWED.format(provider=provider)
    return friendly(err, "social")


def _capital(sentence: str) -> str:
    return sentence[:1].upper() + sentence[1:]


def _token_text(outcome: str) -> str:
    if outcome == "expired":
        return "This link has expired. Ask for a new one below."
    if outcome == "used":
        return "This link has already been used."
    return "This link isn't valid. Open the whole link from the email, or ask for a new one."


def _function_text(err: AppError) -> str:
    if err.code in (ErrorCode.FUNCTION_NOT_FOUND, ErrorCode.NOT_FOUND):
        return "The server doesn't offer this function (yet)."
    if err.code is ErrorCode.FUNCTION_TIME_LIMIT:
        return "The function took too long and was stopped."
    if err.code is ErrorCode.FUNCTION_EXECUTION_ERROR and err.error:
        return f"The function failed: {err.error}"
    if err.status >= 500:
        return SERVER_TROUBLE
    return f"The function call failed ({err.error or err.wire_code})."


#: What the confirmation and reset pages say, per page and outcome.
LINK_TEXTS = {
    "confirm": {
        "done": "Your email address is confirmed. You can sign in now.",
        "expired": "This confirmation link has expired. Ask for a new one below.",
        "used": "This confirmation link has already been used, so your address is probably "
                "confirmed already. Try signing in.",
        "invalid": "This confirmation link isn't valid. Open the whole link from the email, or "
                   "ask for a new one below.",
        "missing": "Open this page from the link in your confirmation email.",
    },
    "reset": {
        "done": "Your password is changed. Sign in with your new password.",
        "expired": "This reset link has expired. Ask for a new one below.",
        "used": "This reset link has already been used. If you did not change your password, "
                "ask for a new link below.",
        "invalid": "This reset link isn't valid. Open the whole link from the email, or ask for "
                   "a new one below.",
        "missing": "Open this page from the link in your password reset email, or ask for a new "
                   "link below.",
    },
}
