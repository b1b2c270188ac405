"""The wire contract's paths: every URL path of the App Services client API v2.0 that we speak.

Both the SDK and the server import this module, so the two cannot drift apart. It imports only
the standard library and builds plain strings; it never touches the network.
"""

from __future__ import annotations

from urllib.parse import quote

API_PREFIX = "/api/client/v2.0"
AUTH_PREFIX = f"{API_PREFIX}/auth"

# Provider types as they appear in paths and profiles.
ANON_USER = "anon-user"
LOCAL_USERPASS = "local-userpass"
API_KEY = "api-key"
CUSTOM_TOKEN = "custom-token"
CUSTOM_FUNCTION = "custom-function"
OAUTH2_GOOGLE = "oauth2-google"
OAUTH2_APPLE = "oauth2-apple"
OAUTH2_FACEBOOK = "oauth2-facebook"
#: Any OpenID Connect issuer; several can run side by side, named ``oidc-<something>``.
OIDC = "oidc"
#: Providers that log in through another site: ID token, code, access token or redirect.
SOCIAL_TYPES = (OAUTH2_GOOGLE, OAUTH2_APPLE, OAUTH2_FACEBOOK, OIDC)
PROVIDER_TYPES = (
    ANON_USER,
    LOCAL_USERPASS,
    API_KEY,
    CUSTOM_TOKEN,
    CUSTOM_FUNCTION,
    OAUTH2_GOOGLE,
    OAUTH2_APPLE,
    OAUTH2_FACEBOOK,
    OIDC,
)

# Sub-paths of the email/password provider, relative to its provider path.
USERPASS_REGISTER = "register"
USERPASS_CONFIRM = "confirm"
USERPASS_CONFIRM_SEND = "confirm/send"
USERPASS_CONFIRM_CALL = "confirm/call"
USERPASS_RESET = "reset"
USERPASS_RESET_SEND = "reset/send"
USERPASS_RESET_CALL = "reset/call"
USERPASS_ACTIONS = (
    USERPASS_REGISTER,
    USERPASS_CONFIRM,
    USERPASS_CONFIRM_SEND,
    USERPASS_CONFIRM_CALL,
    USERPASS_RESET,
    USERPASS_RESET_SEND,
    USERPASS_RESET_CALL,
)


def _seg(value: str) -> str:
    # Path segments come from callers (app ids, key ids); quote them so that a slash or a
    # query character can never change which route a request reaches. A "{name}" placeholder
    # passes through, so the server builds its route templates from these same functions.
    if value.startswith("{") and value.endswith("}") and value[1:-1].isidentifier():
        return value
    return quote(value, safe="")


def app_path(app_id: str) -> str:
    """The prefix of every app-scoped route: ``/api/client/v2.0/app/{app_id}``."""
    return f"{API_PREFIX}/app/{_seg(app_id)}"


def location(app_id: str) -> str:
    """``GET``: location discovery."""
    return f"{app_path(app_id)}/location"


def provider(app_id: str, provider_name: str) -> str:
    """The base path of one authentication provider."""
    return f"{app_path(app_id)}/auth/providers/{_seg(provider_name)}"


def providers(app_id: str) -> str:
    """``GET``: the app's enabled providers, ``[{name, type, display_name?}]`` (Latchkey's own)."""
    return f"{app_path(app_id)}/auth/providers"


def login(app_id: str, provider_name: str, *, link: bool = False) -> str:
    """``POST``: log in (or, with ``link=True``, link) with one provider's credentials."""
    path = f"{provider(app_id, provider_name)}/login"
    return f"{path}?link=true" if link else path


def userpass(app_id: str, action: str) -> str:
    """``POST``: one email/password action (``register``, ``confirm/send``, ``reset/call`` ...)."""
    if action not in USERPASS_ACTIONS:
        raise ValueError(f"Unknown email/password action {action!r}.")
    return f"{provider(app_id, LOCAL_USERPASS)}/{action}"


def functions_call(app_id: str) -> str:
    """``POST``: call a server function."""
    return f"{app_path(app_id)}/functions/call"


def oauth_callback() -> str:
    """``GET``/``POST``: where identity providers send the browser back (register it there)."""
    return f"{AUTH_PREFIX}/callback"


def profile() -> str:
    """``GET``: the profile of the user behind the access token."""
    return f"{AUTH_PREFIX}/profile"


def session() -> str:
    """``POST`` refreshes the access token, ``DELETE`` logs out (both with the refresh token)."""
    return f"{AUTH_PREFIX}/session"


def delete_user() -> str:
    """``DELETE``: delete the user behind the access token."""
    return f"{AUTH_PREFIX}/delete"


def api_keys() -> str:
    """``GET`` lists, ``POST`` creates the calling user's API keys (refresh token)."""
    return f"{AUTH_PREFIX}/api_keys"


def api_key(key_id: str) -> str:
    """``GET`` fetches, ``DELETE`` deletes one API key."""
    return f"{api_keys()}/{_seg(key_id)}"


def api_key_enable(key_id: str) -> str:
    """``PUT``: enable one API key."""
    return f"{api_key(key_id)}/enable"


def api_key_disable(key_id: str) -> str:
    """``PUT``: disable one API key."""
    return f"{api_key(key_id)}/disable"


# Passkeys and second factors (issue 14): Latchkey's additions to the client API.
PASSKEY = "passkey"
PASSKEY_REGISTER_OPTIONS = "register/options"
PASSKEY_REGISTER = "register"
PASSKEY_LOGIN_OPTIONS = "login/options"
PASSKEY_CREDENTIALS = "credentials"
MFA_STATUS = ""
MFA_TOTP = "totp"
MFA_TOTP_CONFIRM = "totp/confirm"
MFA_TOTP_DISABLE = "totp/disable"
MFA_RECOVERY_CODES = "recovery-codes"
MFA_VERIFY = "verify"
MFA_PASSKEY_OPTIONS = "passkey/options"


def passkey(app_id: str, action: str) -> str:
    """``POST``: a passkey ceremony step (``register/options``, ``register``,
    ``login/options``); ``GET`` on ``credentials`` lists the caller's passkeys."""
    return f"{provider(app_id, PASSKEY)}/{action}"


def passkey_credential(app_id: str, credential_id: str) -> str:
    """``PATCH`` renames, ``DELETE`` deletes one of the caller's passkeys."""
    return f"{passkey(app_id, PASSKEY_CREDENTIALS)}/{_seg(credential_id)}"


def mfa(app_id: str, action: str = MFA_STATUS) -> str:
    """Second factors: ``GET`` the status; ``POST`` ``totp`` (enrol), ``totp/confirm``,
    ``totp/disable``, ``recovery-codes``, ``verify`` (finish a login), ``passkey/options``."""
    base = f"{app_path(app_id)}/auth/mfa"
    return f"{base}/{action}" if action else base
def sessions() -> str:
    """``GET`` lists the calling user's sessions, ``DELETE`` ends all but the calling one
    (access token; Latchkey's addition to the App Services API)."""
    return f"{AUTH_PREFIX}/sessions"


def user_session(session_id: str) -> str:
    """``DELETE``: end one of the calling user's sessions."""
    return f"{sessions()}/{_seg(session_id)}"
