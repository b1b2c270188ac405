"""Settings: the app config file (TOML), the data dir, and the environment.

``Settings.load(config_path, data_dir)`` reads one app's TOML config and the server's own options.
Environment variables (read through ``starlette.config.Config``) override the data dir
(``LATCHKEY_DATA_DIR``), the config (``LATCHKEY_CONFIG``) and the database (``DATABASE_URL``).
Secrets are never in the config: they are generated on first start into the data dir (0600).
Before anything is read, ``server.config_check`` checks every key, type and number range.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.config import Config

from .config_check import ConfigError as ConfigError  # Re-exported: callers import it here.
from .config_check import check
from .oauth_settings import OAuthConfigError, OAuthProviderSettings, oauth_providers, state_seconds

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
class MetadataField:
    """A claim of a custom JWT copied into the profile ``data``: path, key, and whether required."""

    name: str
    field_name: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class CustomTokenSettings:
    """Custom JWT provider options (App Services' ``custom-token`` config).

    HS256 tokens are checked with ``signing_keys`` (any of them, so keys can be rotated); RS256 and
    ES256 tokens with ``public_key`` (PEM) or the keys published at ``jwks_url``.
    """

    enabled: bool = False
    algorithm: str = "HS256"
    signing_keys: tuple[str, ...] = field(default=(), repr=False)
    public_key: str = ""
    jwks_url: str = ""
    jwks_cache_seconds: float = 300.0
    jwks_min_refetch_seconds: float = 10.0
    audience: tuple[str, ...] = ()
    leeway_seconds: float = 0.0
    metadata_fields: tuple[MetadataField, ...] = ()


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
    ) -> Settings:
        """Read the config file and the environment into settings.

        Every key, type and number of the config is checked first (``server.config_check``);
        ``check_ranges=False`` skips only the number ranges, for tests that shorten lifetimes.
        """
        env = Config(environ=os.environ)
        path = Path(config_path or env("LATCHKEY_CONFIG", default=str(DEFAULT_CONFIG)))
        raw = _read_toml(path)
        if overrides:
            raw = _merge(raw, overrides)
        ddir = Path(data_dir or env("LATCHKEY_DATA_DIR", default=str(DEFAULT_DATA_DIR)))
        db = (database_url or env("DATABASE_URL", default="")
              or f"sqlite:{ddir / 'latchkey.sqlite3'}")
        check(raw, CHECKED_TABLES, ranges=check_ranges)
        return _from_raw(raw, path, ddir, db, public_url)


#: The config tables read into dataclasses: their keys are the dataclass fields.
CHECKED_TABLES: dict[str, type] = {
    "mail": MailSettings,
    "security": SecuritySettings,
    "providers.local-userpass": UserpassSettings,
    "providers.custom-token": CustomTokenSettings,
    "providers.<social>": OAuthProviderSettings,
}


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
    return tuple(value)


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


TOKEN_ALGORITHMS = ("HS256", "RS256", "ES256")
MIN_HMAC_KEY_BYTES = 32


def custom_token_settings(cfg: dict[str, Any], config_dir: Path) -> CustomTokenSettings:
    """Check ``[providers.custom-token]`` and gather its keys (inline, from a file or the env)."""
    if not cfg.get("enabled", False):
        return CustomTokenSettings()
    algorithm = cfg.get("algorithm", "HS256")
    if algorithm not in TOKEN_ALGORITHMS:
        raise ConfigError(f"custom-token algorithm must be one of {', '.join(TOKEN_ALGORITHMS)}.")
    keys: tuple[str, ...] = ()
    public_key = jwks_url = ""
    if algorithm == "HS256":
        keys = _hmac_keys(cfg)
    else:
        public_key, jwks_url = _public_key(cfg, config_dir, algorithm)
    return CustomTokenSettings(
        enabled=True, algorithm=algorithm, signing_keys=keys, public_key=public_key,
        jwks_url=jwks_url,
        jwks_cache_seconds=_number(cfg, "jwks_cache_seconds", 300.0),
        jwks_min_refetch_seconds=_number(cfg, "jwks_min_refetch_seconds", 10.0),
        audience=_strings(cfg, "audience"),
        leeway_seconds=_number(cfg, "leeway_seconds", 0.0),
        metadata_fields=_metadata_fields(cfg.get("metadata_fields", [])),
    )


def _hmac_keys(cfg: dict[str, Any]) -> tuple[str, ...]:
    keys = list(_strings(cfg, "signing_keys"))
    env_name = cfg.get("signing_key_env", "")
    if env_name:
        value = os.environ.get(str(env_name), "")
        if not value:
            raise ConfigError(f"custom-token signing_key_env names {env_name}, which is not set.")
        keys.append(value)
    if not keys:
        raise ConfigError("custom-token HS256 needs signing_keys or signing_key_env.")
    if any(len(k.encode()) < MIN_HMAC_KEY_BYTES for k in keys):
        raise ConfigError(f"custom-token HS256 keys must be at least {MIN_HMAC_KEY_BYTES} bytes.")
    return tuple(keys)


def _public_key(cfg: dict[str, Any], config_dir: Path, algorithm: str) -> tuple[str, str]:
    sources = [k for k in ("public_key", "public_key_file", "jwks_url") if cfg.get(k)]
    if len(sources) != 1:
        raise ConfigError(f"custom-token {algorithm} needs exactly one of public_key, "
                          "public_key_file or jwks_url.")
    if sources[0] == "jwks_url":
        url = str(cfg["jwks_url"])
        if not url.startswith(("https://", "http://")):
            raise ConfigError("custom-token jwks_url must be an http(s) URL.")
        return "", url
    pem = str(cfg["public_key"]) if sources[0] == "public_key" else \
        _read_text(config_dir / str(cfg["public_key_file"]))
    import jwt  # The server's JWT library; loaded here only when a public key is configured.

    try:
        key = jwt.get_algorithm_by_name(algorithm).prepare_key(pem)
    except (jwt.InvalidKeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"custom-token public key is not a valid {algorithm} key.") from exc
    if hasattr(key, "private_bytes"):
        raise ConfigError("custom-token public_key holds a private key; give the public key.")
    return pem, ""


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from exc


def _number(cfg: dict[str, Any], key: str, default: float) -> float:
    value = cfg.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"custom-token {key} must be a number of seconds, 0 or more.")
    return float(value)


def _strings(cfg: dict[str, Any], key: str) -> tuple[str, ...]:
    value = cfg.get(key, ())
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) for v in values):
        raise ConfigError(f"custom-token {key} must be a string or a list of strings.")
    return tuple(v for v in values if v)


def _metadata_fields(value: Any) -> tuple[MetadataField, ...]:
    if not isinstance(value, list):
        raise ConfigError("custom-token metadata_fields must be a list of tables.")
    fields = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            raise ConfigError("each custom-token metadata field needs a claim name.")
        field_name = item.get("field_name") or name.rsplit(".", 1)[-1]
        fields.append(MetadataField(name, str(field_name), bool(item.get("required", False))))
    return tuple(fields)


def ensure_data_dir(data_dir: Path) -> None:
    """Create the data dir, readable by its owner only."""
    data_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)


def load_or_create_secret(data_dir: Path, name: str, nbytes: int = 32) -> str:
    """A secret kept in ``data_dir/name`` with mode 0600, generated on first use.

    The file appears complete or not at all, and the first process to make it wins: the server
    and an admin command starting together on a fresh data dir read the same value.
    """
    ensure_data_dir(data_dir)
    path = data_dir / name
    if not path.exists():
        _create_secret(path, secrets.token_urlsafe(nbytes))
    value = path.read_text(encoding="ascii").strip()
    if len(value) < 32:
        raise ConfigError(f"The secret file {path} is damaged; remove it to make a new one.")
    return value


def _create_secret(path: Path, value: str) -> None:
    # Written in full to a private temporary file, then hard-linked into place: the link is
    # atomic and fails if the name exists, so nobody ever reads a half-written secret.
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(value + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # Another process made it first; everybody uses that one.
        except OSError:
            # A file system without hard links: create the name exclusively, then write.
            with contextlib.suppress(FileExistsError), \
                    os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600),
                              "w", encoding="ascii") as fh:
                fh.write(value + "\n")
    finally:
        tmp.unlink(missing_ok=True)
