"""Start Latchkey: the front end and the App Services-compatible API on one address.

    python serve.py [--host 127.0.0.1] [--port 8000] [--data-dir ./data] [--config FILE]
                    [--database sqlite:PATH | postgresql://USER@HOST/DB]
    python serve.py users list | show ID | disable ID | enable ID | delete ID
    python serve.py custom-data get ID | set ID '{"plan": "pro"}' | delete ID
    python serve.py server-keys create NAME | list | delete ID
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from server.settings import ConfigError, Settings


class DropQueryStrings(logging.Filter):
    """Keeps query strings out of the access log: confirmation and reset links carry
    single-use tokens there, and a log is no place for them."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="serve.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--data-dir", type=Path, default=None, help="default ./data")
    parser.add_argument("--config", type=Path, default=None, help="default config/demo.toml")
    parser.add_argument("--database", default=None,
                        help="sqlite:PATH or postgresql://USER@HOST/DB (or $DATABASE_URL); "
                             "default sqlite:<data dir>/latchkey.sqlite3")
    parser.add_argument("--public-url", default="", help="URL in emails and location answers")
    sub = parser.add_subparsers(dest="command")
    users = sub.add_parser("users", help="list, show, disable, enable or delete users")
    users.add_argument("action", choices=["list", "show", "disable", "enable", "delete"])
    users.add_argument("user_id", nargs="?")
    data = sub.add_parser("custom-data", help="read or write a user's custom user data")
    data.add_argument("action", choices=["get", "set", "delete"])
    data.add_argument("user_id")
    data.add_argument("document", nargs="?")
    keys = sub.add_parser("server-keys", help="create, list or delete server API keys")
    keys.add_argument("action", choices=["create", "list", "delete"])
    keys.add_argument("arg", nargs="?", metavar="NAME|ID")
    return parser


async def _admin(settings: Settings, args: argparse.Namespace) -> int:
    from server import build_services
    from server.admin import custom_data_command, server_keys_command, users_command

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
        return await custom_data_command(services, args.action, args.user_id, args.document)
    finally:
        await services.store.close()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.load(args.config, args.data_dir, database_url=args.database,
                                 public_url=args.public_url)
    except ConfigError as exc:
        print(f"serve.py: {exc}", file=sys.stderr)
        return 2
    if args.command:
        return asyncio.run(_admin(settings, args))
    import dataclasses

    import uvicorn

    from server import create_app

    url = f"http://{args.host}:{args.port}"
    settings = dataclasses.replace(settings, link_base_url=url)
    logging.getLogger("uvicorn.access").addFilter(DropQueryStrings())
    print(f"Latchkey is serving app '{settings.app_id}' at {url}/ (data in {settings.data_dir})",
          flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info",
                proxy_headers=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
