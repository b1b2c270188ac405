"""Settings: the app config file (TOML), the data dir, and the environment.

``Settings.load(config_path, data_dir)`` reads one app's TOML config and the server's own options.
Environment variables (read through ``starlette.config.Config``) override the data dir
(``LATCHKEY_DATA_DIR``), the config (``LATCHKEY_CONFIG``) and the database (``DATABASE_URL``).
Secrets are never in the config: they are generated on first start into the data dir (0600,
``server.data_dir``). The custom JWT provider's table is parsed by
``server.custom_token_settings``, the social providers' by ``server.oauth_settings``.
Before anything is read, ``server.config_check`` checks every key, type and number range.
It imports nothing of the HTTP layer, the services or the store.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.config import Config

from .app_secrets import SecretSource, resolve_secrets
from .config_check import ConfigError as ConfigError  # Re-exported: callers import it here.
from .config_check import check
from .config_values import check_values
from .cors_origins import browser_origin
from .custom_token_settings import CustomTokenSettings as CustomTokenSettings  # Re-exported.
from .custom_token_settings import MetadataField as MetadataField  # Re-exported.
from .custom_token_settings import custom_token_settings as custom_token_settings
from .data_dir import ensure_data_dir as ensure_data_dir  # Re-exported: callers import it here.
from .data_dir import load_or_create_secret as load_or_create_secret  # Re-exported.
from .export import is_export, read_export
from .factor_settings import MfaSettings, PasskeySettings, mfa_settings, passkey_settings
from .js_settings import JsFunctionSettings as JsFunctionSettings  # Re-exported.
from .js_settings import environment as _environment
from .js_settings import js_functions as _js_functions
from .js_settings import values as _values
from .oauth_settings import OAuthConfigError, OAuthProviderSettings, oauth_providers, state_seconds
from .ops_settings import OPS_TABLES

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "config" / "demo.toml"
DEFAULT_DATA_DIR = REPO_ROOT / "data"
DEFAULT_FUNCTION_TIME_LIMIT = 10.0


@dataclass(frozen=True, slots=True)
class UserpassSettings:
    """Email/password provider options (App Services' ``local-userpass`` config)."""

    enabled: bool = False
    confirmation: str = "auto"  # "auto" | "email" | "function"
    confirmation_function: str = ""
    reset: str = "email"  # "email" | "function"
    reset_function: str = ""
    confirm_url: str = ""
    reset_url: str = ""
    confirm_subject: str = "Confirm your email"
    reset_subject: str = "Reset your password"
    token_minutes: float = 30


@dataclass(frozen=True, slots=True)
class MailSettings:
    """Where email goes: the console and the outbox file, and SMTP when a host is set."""

    sender: str = "Latchkey <no-reply@localhost>"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = False
    console: bool = True
    #: Print whole messages, live links included, on the console (local development only):
    #: off, the console says only that a mail went to the outbox.
    console_links: bool = False


@dataclass(frozen=True, slots=True)
class SecuritySettings:
    """Request limits and login rate limits."""

    max_body_bytes: int = 64 * 1024
    login_failures_per_account: int = 10
    login_attempts_per_address: int = 60
    rate_window_seconds: int = 300
    #: Confirmation and reset mails to one email address (and runs of the confirmation and
    #: reset functions for it) per window.
    mails_per_address: int = 5
    #: Logins with every provider but email/password (anonymous, API key, custom function,
    #: custom JWT, social tokens, and both ends of social login's redirect flow) per client
    #: address per window.
    logins_per_address: int = 300
    #: Logins of one proven identity (an API key, a JWT subject, a social account, a user of the
    #: custom function) per window.
    logins_per_identity: int = 100
    #: Registrations, confirmation and reset mail requests and confirmation/reset function
    #: calls per client address, and per email, per window, whether it has an account or not.
    email_requests_per_address: int = 30
    #: Email/password attempts on one account from devices that never logged in to it, over
    #: ``login_slowdown_window_seconds``, before each further one waits (doubling from 1 s).
    login_slowdown_after: int = 20
    login_slowdown_window_seconds: int = 12 * 3600
    #: The longest wait between such attempts on one account (seconds).
    login_max_delay_seconds: float = 900.0
    #: Seconds a client has to send a request's headers (from connecting, or from its first
    #: byte on a kept-alive connection) and then its whole body; slower ones are closed.
    header_timeout_seconds: float = 10.0
    body_timeout_seconds: float = 30.0
    #: Seconds an idle kept-alive connection stays open between requests.
    keep_alive_seconds: float = 5.0
    #: Open connections per server process; beyond it the longest-waiting idle or slow one is
    #: closed. Lowered at start to what the file descriptor limit allows.
    max_connections: int = 10_000


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the server needs to run one app."""

    app_id: str
    data_dir: Path
    config_path: Path
    database_url: str
    access_token_seconds: int = 30 * 60
    refresh_token_seconds: int = 60 * 24 * 3600
    allowed_origins: tuple[str, ...] = ()
    public_url: str = ""
    #: Base URL for links in emails when ``public_url`` is empty: the address ``serve.py``
    #: listens on. Never taken from a request's Host header, which a client controls.
    link_base_url: str = ""
    providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    userpass: UserpassSettings = UserpassSettings()
    mail: MailSettings = MailSettings()
    security: SecuritySettings = SecuritySettings()
    functions_module: Path | None = None
    custom_user_data: dict[str, Any] = field(default_factory=dict)
    function_time_limit: float = DEFAULT_FUNCTION_TIME_LIMIT
    custom_token: CustomTokenSettings = CustomTokenSettings()
    #: Enabled social login providers by name (``server.oauth_settings``).
    oauth: dict[str, OAuthProviderSettings] = field(default_factory=dict)
    oauth_state_seconds: float = 600.0
    serve_frontend: bool = True
    raw: dict[str, Any] = field(default_factory=dict)
    #: Function worker processes (per server process), a worker's memory cap, and the largest
    #: result a function may return (canonical EJSON bytes).
    function_workers: int = 4
    function_memory_bytes: int = 512 << 20
    function_result_bytes: int = 1 << 20
    #: App Services style: ``context.environment.tag``, ``context.values`` and the JavaScript
    #: functions by name (``server.js_settings``).
    environment: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    js_functions: dict[str, JsFunctionSettings] = field(default_factory=dict)
    #: Passkeys (``[providers.passkey]``) and second factors (``[mfa]``), issue 14.
    passkey: PasskeySettings = PasskeySettings()
    mfa: MfaSettings = MfaSettings()

    def provider_enabled(self, provider_type: str) -> bool:
        """Whether a provider is configured and enabled."""
        return bool(self.providers.get(provider_type, {}).get("enabled", False))

    @classmethod
    def load(
        cls,
        config_path: str | Path | None = None,
        data_dir: str | Path | None = None,
        *,
        database_url: str | None = None,
        public_url: str = "",
        overrides: dict[str, Any] | None = None,
        check_ranges: bool = True,
        environment: str = "",
    ) -> Settings:
        """Read the config file and the environment into settings.

        Every key, type and number of the config is checked first (``server.config_check``);
        ``check_ranges=False`` skips only the number ranges, for tests that shorten lifetimes.
        ``config_path`` may name an App Services export directory (``server.export``), read in
        its ``environment``; secrets the config names are filled in (``server.app_secrets``).
        """
        env = Config(environ=os.environ)
        path = Path(config_path or env("LATCHKEY_CONFIG", default=str(DEFAULT_CONFIG)))
        raw, path = _read_config(path, environment or env("LATCHKEY_ENVIRONMENT", default=""))
        if overrides:
            raw = _merge(raw, overrides)
        ddir = Path(data_dir or env("LATCHKEY_DATA_DIR", default=str(DEFAULT_DATA_DIR)))
        raw = resolve_secrets(raw, SecretSource(ddir))
        db = (database_url or env("DATABASE_URL", default="")
              or f"sqlite:{ddir / 'latchkey.sqlite3'}")
        check(raw, CHECKED_TABLES, ranges=check_ranges)
        check_values(raw)
        return _from_raw(raw, path, ddir, db, public_url)


#: The config tables read into dataclasses: their keys are the dataclass fields.
CHECKED_TABLES: dict[str, type] = {
    "mail": MailSettings,
    "security": SecuritySettings,
    "providers.local-userpass": UserpassSettings,
    "providers.custom-token": CustomTokenSettings,
    "providers.<social>": OAuthProviderSettings,
    "providers.passkey": PasskeySettings,
    "mfa": MfaSettings,
    **OPS_TABLES,
}


def _read_config(path: Path, environment: str) -> tuple[dict[str, Any], Path]:
    """The raw config and the file it came from: a TOML file, or an export's root JSON file
    (whose directory is then where relative paths start)."""
    if is_export(path):
        export = read_export(path, environment)
        return export.raw, export.root_file
    return _read_toml(path), path


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"The config file {path} does not exist.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The config file {path} is not valid TOML: {exc}") from exc


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _origins(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ConfigError("[cors] allowed_origins must be a list of origins.")
    try:
        return tuple(browser_origin(v) for v in value)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _section(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] in the config must be a table.")
    return value


def _from_raw(raw: dict[str, Any], path: Path, ddir: Path, db: str, public_url: str) -> Settings:
    app_id = raw.get("app_id")
    if not isinstance(app_id, str) or not app_id:
        raise ConfigError("The config must set app_id to a non-empty string.")
    tokens = _section(raw, "tokens")
    providers = {k: dict(v) for k, v in _section(raw, "providers").items()}
    up = providers.get("local-userpass", {})
    known = {f for f in UserpassSettings.__dataclass_fields__}
    userpass = UserpassSettings(**{k: v for k, v in up.items() if k in known})
    if userpass.confirmation not in ("auto", "email", "function"):
        raise ConfigError("local-userpass confirmation must be auto, email or function.")
    if userpass.reset not in ("email", "function"):
        raise ConfigError("local-userpass reset must be email or function.")
    mail = MailSettings(**{k: v for k, v in _section(raw, "mail").items()
                           if k in MailSettings.__dataclass_fields__})
    security = SecuritySettings(**{k: v for k, v in _section(raw, "security").items()
                                   if k in SecuritySettings.__dataclass_fields__})
    functions = raw.get("functions")
    _check_custom_function(providers.get("custom-function", {}))
    try:
        oauth = oauth_providers(raw, providers, path.parent)
        oauth_state = state_seconds(raw)
    except OAuthConfigError as exc:
        raise ConfigError(str(exc)) from exc
    passkey = passkey_settings(providers.get("passkey", {}), app_id,
                               _public_url(public_url or str(raw.get("public_url", ""))),
                               _origins(_section(raw, "cors").get("allowed_origins", ())))
    return Settings(
        app_id=app_id,
        data_dir=ddir,
        config_path=path,
        database_url=db,
        access_token_seconds=int(tokens.get("access_token_minutes", 30) * 60),
        refresh_token_seconds=int(tokens.get("refresh_token_days", 60) * 86400),
        allowed_origins=_origins(_section(raw, "cors").get("allowed_origins", ())),
        public_url=_public_url(public_url or str(raw.get("public_url", ""))),
        providers=providers,
        userpass=userpass,
        mail=mail,
        security=security,
        functions_module=(path.parent / functions) if isinstance(functions, str) else None,
        custom_user_data=_section(raw, "custom_user_data"),
        function_time_limit=_time_limit(raw),
        custom_token=custom_token_settings(providers.get("custom-token", {}), path.parent),
        oauth=oauth,
        oauth_state_seconds=oauth_state,
        raw=raw,
        function_workers=int(raw.get("function_workers", 4)),
        function_memory_bytes=int(raw.get("function_memory_limit_mib", 512)) << 20,
        function_result_bytes=int(raw.get("function_result_limit_kib", 1024)) << 10,
        environment=_environment(raw),
        values=_values(raw),
        js_functions=_js_functions(raw, path.parent),
        passkey=passkey,
        mfa=mfa_settings(_section(raw, "mfa"), app_id, passkey.rp_name),
    )


def _public_url(value: str) -> str:
    # It starts every link in mails, error bodies and location answers: a value without a
    # scheme or host ("auth.example.com") would send users to broken links, one with a query
    # or fragment would garble them.
    if not value:
        return value
    parts = urlsplit(value)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.query
            or parts.fragment or "#" in value or "?" in value or "@" in parts.netloc):
        raise ConfigError(f"public_url = {value!r} is not allowed: it must be an http:// or "
                          "https:// URL with a host and no query, fragment or user name, "
                          "e.g. \"https://auth.example.com\".")
    try:
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError as exc:
        raise ConfigError(f"public_url = {value!r} has a bad port.") from exc
    return value


def _time_limit(raw: dict[str, Any]) -> float:
    value = raw.get("function_time_limit_seconds", DEFAULT_FUNCTION_TIME_LIMIT)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError("function_time_limit_seconds must be a positive number.")
    return float(value)


def _check_custom_function(cfg: dict[str, Any]) -> None:
    name = cfg.get("function_name")
    if cfg.get("enabled", False) and (not isinstance(name, str) or not name):
        raise ConfigError("[providers.custom-function] needs function_name, the name of the "
                          "app function that authenticates a login payload.")
