"""Start Latchkey: the front end and the App Services-compatible API on one address.

    python serve.py [--host 127.0.0.1] [--port 8000] [--data-dir ./data] [--config FILE]
                    [--database sqlite:PATH | postgresql://USER@HOST/DB]
                    [--workers N] [--forwarded-allow-ips IPS] [--public-url URL]
    python serve.py users list | show ID | disable ID | enable ID | delete ID | reset-factors ID
    python serve.py custom-data get ID | set ID '{"plan": "pro"}' | delete ID
    python serve.py server-keys create NAME | list | delete ID
    python serve.py admin-keys create NAME | list | disable KEY | enable KEY | delete KEY
    python serve.py migrate-store --from sqlite:PATH --to postgresql://USER@HOST/DB [--force]
    python serve.py convert-config EXPORT_DIR [--environment NAME] > app.toml
    python serve.py import-users USERS.json [--send-reset [--reset-rate N]]
    python serve.py import-custom-data MONGOEXPORT.json

--config may name an App Services export directory (realm_config.json, root_config.json or
config.json in it); --environment picks its environments/<name>.json. Secrets the app names come
from LATCHKEY_SECRET_<name> variables or <data dir>/secrets.json (mode 0600).

--workers N runs N server processes on the one address (uvicorn's workers). They share the
store: PostgreSQL, or the SQLite file (WAL mode is safe for processes on one machine; writes
take turns). --forwarded-allow-ips trusts X-Forwarded-For/-Proto from those proxy addresses
(e.g. 127.0.0.1 for nginx on the same machine), so rate limits see each client's own address.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import sys
from pathlib import Path
from typing import Any

from server.settings import ConfigError, Settings

__all__ = ["main"]


USERS_ACTIONS = """actions:
  list                  every user: id, type, state, created, providers, email
  show USER_ID          one user's profile as JSON, with disabled, created_at, last_login_at
  disable USER_ID       refuse its logins and end all of its sessions
  enable USER_ID        allow its logins again (ended sessions stay ended)
  delete USER_ID        delete it with its identities, sessions and API keys
                        (its custom user data stays: custom-data delete USER_ID)
  reset-factors USER_ID remove its authenticator app and recovery codes (passkeys stay)"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="serve.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=_port, default=8000)
    parser.add_argument("--data-dir", type=Path, default=None, help="default ./data")
    parser.add_argument("--config", type=Path, default=None, help="default config/demo.toml")
    parser.add_argument("--database", default=None,
                        help="sqlite:PATH or postgresql://USER@HOST/DB (or $DATABASE_URL); "
                             "default sqlite:<data dir>/latchkey.sqlite3")
    parser.add_argument("--public-url", default="", help="URL in emails and location answers")
    parser.add_argument("--workers", type=int, default=1,
                        help="server processes on this address (default 1)")
    parser.add_argument("--forwarded-allow-ips", default=None, metavar="IPS",
                        help="comma-separated proxy addresses (or networks, or *) whose "
                             "X-Forwarded-For/-Proto headers are trusted; off by default")
    parser.add_argument("--environment", default=None,
                        help="an App Services export's environment (default: the one it names)")
    parser.add_argument("--log-json", action="store_true",
                        help="one JSON object per log line (also [logging] json = true)")
    sub = parser.add_subparsers(dest="command")
    users = sub.add_parser("users", help="list, show, disable, enable or delete users",
                           description=USERS_ACTIONS,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    users.add_argument("action", choices=["list", "show", "disable", "enable", "delete",
                                          "reset-factors"])
    users.add_argument("user_id", nargs="?")
    data = sub.add_parser("custom-data", help="read or write a user's custom user data")
    data.add_argument("action", choices=["get", "set", "delete"])
    data.add_argument("user_id")
    data.add_argument("document", nargs="?")
    keys = sub.add_parser("server-keys", help="create, list or delete server API keys")
    keys.add_argument("action", choices=["create", "list", "delete"])
    keys.add_argument("arg", nargs="?", metavar="NAME|ID")
    admin_keys = sub.add_parser("admin-keys", help="keys of the Admin API (/api/admin/v3.0)")
    admin_keys.add_argument("action", choices=["create", "list", "disable", "enable", "delete"])
    admin_keys.add_argument("arg", nargs="?", metavar="NAME|KEY")
    move = sub.add_parser("migrate-store", help="copy a SQLite store into PostgreSQL")
    move.add_argument("--from", dest="source", required=True, metavar="sqlite:PATH")
    move.add_argument("--to", dest="target", required=True, metavar="postgresql://...")
    move.add_argument("--force", action="store_true",
                      help="replace the contents of a target that holds data")
    move.add_argument("--signing-key", type=Path, default=None, metavar="FILE",
                      help="the SQLite store's signing key (default: signing-key in "
                           "--data-dir, or beside the SQLite file)")
    _migration_commands(sub)
    return parser


def _migration_commands(sub: Any) -> None:
    convert = sub.add_parser("convert-config", help="print an App Services export as TOML")
    convert.add_argument("export_dir", type=Path)
    convert.add_argument("--environment", default=argparse.SUPPRESS,
                         help="the environment whose values the export's expansions use")
    users = sub.add_parser("import-users", help="import users listed by the App Services "
                                                "Admin API (JSON array or one per line)")
    users.add_argument("file", type=Path)
    users.add_argument("--send-reset", action="store_true",
                       help="mail each email/password user without a password a reset link")
    users.add_argument("--reset-rate", type=float, default=2.0, metavar="N",
                       help="reset mails per second (default 2)")
    data = sub.add_parser("import-custom-data",
                          help="import custom user data from mongoexport JSON (one per line)")
    data.add_argument("file", type=Path)


async def _admin(settings: Settings, args: argparse.Namespace) -> int:
    from server.admin import custom_data_command, server_keys_command, users_command
    from server.wiring import build_services

    services = await build_services(settings)
    try:
        if args.command == "users":
            if args.action != "list" and not args.user_id:
                print(f"users {args.action} needs a user id.")
                return 2
            return await users_command(services, args.action, args.user_id)
        if args.command == "server-keys":
            if args.action != "list" and not args.arg:
                what = "name" if args.action == "create" else "key id"
                print(f"server-keys {args.action} needs a {what}.")
                return 2
            return await server_keys_command(services, args.action, args.arg)
        if args.command == "admin-keys":
            return await _admin_keys(services, args)
        return await custom_data_command(services, args.action, args.user_id, args.document)
    finally:
        await services.store.close()


async def _admin_keys(services: Any, args: argparse.Namespace) -> int:
    from server.admin_api.cli import admin_keys_command

    if args.action != "list" and not args.arg:
        what = "name" if args.action == "create" else "key id, public key or name"
        print(f"admin-keys {args.action} needs a {what}.", file=sys.stderr)
        return 2
    return await admin_keys_command(services, args.action, args.arg)


def _port(text: str) -> int:
    """A TCP port for argparse: uvloop would bind 99999 silently as 99999 % 65536."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: a whole number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}: ports are 0 to 65535")
    return port


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "migrate-store":
        return _migrate_store(args)
    if args.command == "convert-config":
        from server.export.cli import convert_config

        return convert_config(args.export_dir, args.environment or "")
    try:
        settings = Settings.load(args.config, args.data_dir, database_url=args.database,
                                 public_url=args.public_url, environment=args.environment or "")
    except ConfigError as exc:
        print(f"serve.py: {exc}", file=sys.stderr)
        return 2
    if args.command in ("import-users", "import-custom-data"):
        from server.importer.cli import import_command

        return asyncio.run(import_command(settings, args))
    if args.command:
        return asyncio.run(_admin(settings, args))
    if args.workers < 1:
        print("serve.py: --workers must be 1 or more.", file=sys.stderr)
        return 2
    return _serve(settings, args)


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    import dataclasses
    import logging
    import logging.config

    import uvicorn

    from server.app import create_app
    from server.asgi import keep_query_strings_out_of_logs
    from server.observability.console import say

    url = _listen_url(args.host, args.port)
    settings = dataclasses.replace(settings, link_base_url=url)
    logs = _observability(settings, args)
    if "json" in logs["log_config"].get("formatters", {}):
        # Review finding C: serve.py's own lines are JSON too when the logs are.
        logging.config.dictConfig(logs["log_config"])
    warning = _wildcard_link_warning(args.host, url, settings.public_url)
    if warning:
        say(warning, stream=sys.stderr, level=logging.WARNING)
    # Open the store once before serving: a wrong database URL is one clear line here, not a
    # traceback per worker; and the schema and signing key exist before the workers race.
    problem = asyncio.run(_check_store(settings))
    if problem:
        print(f"serve.py: cannot open the store {settings.database_url.split('@')[-1]}: "
              f"{problem}", file=sys.stderr)
        return 2
    keep_query_strings_out_of_logs()
    from server.export.cli import startup_summary

    summary = startup_summary(settings.config_path, args.environment or "")
    if summary:
        say(summary)
    workers = f" in {args.workers} processes" if args.workers > 1 else ""
    say(f"Latchkey is serving app '{settings.app_id}' at {url}/{workers} "
        f"(data in {settings.data_dir}, store {_store_kind(settings)})")
    proxy: dict[str, Any] = {"proxy_headers": args.forwarded_allow_ips is not None,
                             "forwarded_allow_ips": args.forwarded_allow_ips,
                             **_connection_limits(settings), **logs}
    if args.workers == 1:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info",
                    **proxy)
        return 0
    # Worker processes import the app by name (server.asgi), so they get the settings through
    # the environment, which they inherit.
    os.environ.update({
        "LATCHKEY_CONFIG": str(settings.config_path.resolve()),
        "LATCHKEY_DATA_DIR": str(settings.data_dir.resolve()),
        "DATABASE_URL": settings.database_url,
        "LATCHKEY_PUBLIC_URL": settings.public_url,
        "LATCHKEY_LINK_BASE_URL": url,
        "LATCHKEY_ENVIRONMENT": args.environment or "",
    })
    # uvicorn (0.37 on) kills a worker that does not answer its health check within 5 s, which
    # a worker still importing on a busy machine can miss, and then its successor, in a loop;
    # 30 s still replaces a hung worker.
    patience = ({"timeout_worker_healthcheck": 30} if "timeout_worker_healthcheck"
                in inspect.signature(uvicorn.run).parameters else {})
    uvicorn.run("server.asgi:from_environment", factory=True, workers=args.workers,
                host=args.host, port=args.port, log_level="info", **proxy, **patience)
    return 0


def _listen_url(host: str, port: int) -> str:
    """The URL of the listening address; an IPv6 address goes in brackets (``http://[::1]:8000``,
    not ``http://::1:8000``, which no client can open), as in mail and error links."""
    return f"http://[{host}]:{port}" if ":" in host and not host.startswith("[") \
        else f"http://{host}:{port}"


def _wildcard_link_warning(host: str, url: str, public_url: str) -> str:
    """A warning when mail and error links would name an address nobody can open."""
    if public_url or host not in ("0.0.0.0", "::", "[::]", ""):
        return ""
    return (f"serve.py: warning: listening on every address without --public-url, so links in "
            f"mails (confirmation, password reset) and errors start with {url}, which users "
            "cannot open; set --public-url or public_url to the address they use.")


def _connection_limits(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for slow and surplus connections (server/http_limits.py)."""
    from server.http_limits import HttpLimits, connection_cap, protocol, raise_fd_limit

    soft, hard = raise_fd_limit()
    security = settings.security
    cap = connection_cap(security.max_connections, soft)
    from server.observability.console import say

    say(f"Open files limit {soft} (hard {hard}): up to {cap} connections per process; "
        f"headers within {security.header_timeout_seconds:g} s, body within "
        f"{security.body_timeout_seconds:g} s, idle connections closed after "
        f"{security.keep_alive_seconds:g} s")
    base = settings.public_url or settings.link_base_url
    return {"http": protocol(HttpLimits.from_security(security, cap, base)),
            "timeout_keep_alive": security.keep_alive_seconds}


def _observability(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    """JSON log lines when asked for; the metrics directory of several workers, emptied."""
    from server.observability import jsonlog, metrics, plainlog
    from server.ops_settings import LoggingSettings, read_table

    if args.workers > 1:
        # Set before the workers start, which read it when they import prometheus-client.
        path = os.environ.setdefault(metrics.MULTIPROC_ENV,
                                     str(settings.data_dir.resolve() / "metrics"))
        metrics.prepare_directory(path)
    if args.log_json or read_table(settings.raw, "logging", LoggingSettings).json:
        return {"log_config": jsonlog.log_config()}
    return {"log_config": plainlog.log_config()}


def _store_kind(settings: Settings) -> str:
    return "PostgreSQL" if settings.database_url.startswith("postgres") else "SQLite"


async def _check_store(settings: Settings) -> str:
    from server.wiring import build_services

    try:
        services = await build_services(settings)
    except Exception as exc:  # Whatever the driver raises, the operator needs its message.
        return str(exc).strip() or type(exc).__name__
    await services.store.close()
    return ""


def _migrate_store(args: argparse.Namespace) -> int:
    source, target = str(args.source), str(args.target)
    if not source.startswith("sqlite:") or not target.startswith(("postgresql://",
                                                                  "postgres://")):
        print("serve.py: migrate-store copies --from sqlite:PATH --to postgresql://...",
              file=sys.stderr)
        return 2
    try:
        import psycopg

        from server.store.migrate import MigrateError, describe_url, migrate_store
    except ImportError:
        print("serve.py: migrate-store needs psycopg: pip install -e '.[server,postgres]'",
              file=sys.stderr)
        return 2
    path = Path(source.removeprefix("sqlite:").removeprefix("//"))
    key_dir = args.data_dir or path.parent  # The default SQLite file lives in the data dir.
    key_file = args.signing_key or key_dir / "signing-key"
    try:
        counts = asyncio.run(migrate_store(path, target, force=args.force,
                                           signing_key_file=key_file))
    except MigrateError as exc:
        print(f"serve.py: {exc}", file=sys.stderr)
        return 1
    except (OSError, psycopg.Error) as exc:  # No server, refused, bad login, lost connection.
        print(f"serve.py: cannot copy into {describe_url(target)}: {exc}", file=sys.stderr)
        return 1
    print(f"Copied {path} into {describe_url(target)} in one transaction:")
    for name, count in counts.items():
        if name != "signing_key":
            print(f"  {name:<18} {count:>8}")
    if counts["signing_key"]:
        print(f"  signing key from {key_file}: existing tokens stay valid")
    else:
        print(f"  no signing key at {key_file}: existing sessions end, users log in again "
              "(give the key file with --signing-key)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
