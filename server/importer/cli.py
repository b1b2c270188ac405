"""``serve.py import-users FILE [--send-reset]`` and ``serve.py import-custom-data FILE``.

They print what they did: counts, then one line per skipped entry with its number; the exit
status is 1 when anything was skipped, 0 otherwise. No secret is printed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..services.context import Services
from ..settings import Settings
from .custom_data import import_custom_data
from .users import import_users, send_resets


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"serve.py: cannot read {path}: {getattr(exc, 'strerror', None) or exc}.")
        return None


async def import_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run ``import-users`` or ``import-custom-data``; the exit status."""
    from .. import build_services

    text = _read(args.file)
    if text is None:
        return 2
    if args.command == "import-custom-data" and \
            not settings.custom_user_data.get("enabled", False):
        print("Custom user data is not enabled: set enabled = true in [custom_user_data] "
              "(or in the export's auth/custom_user_data.json).")
        return 2
    if args.command == "import-users" and args.send_reset and args.reset_rate <= 0:
        print("--reset-rate must be a positive number of mails per second.")
        return 2
    services = await build_services(settings)
    try:
        if args.command == "import-custom-data":
            data = await import_custom_data(services, text)
            print(f"Custom user data: {data.written} document(s) written, "
                  f"{len(data.problems)} skipped.")
            problems = data.problems
        else:
            report = await import_users(services, text)
            print(f"Users: {report.imported} imported, {report.present} already there, "
                  f"{len(report.problems)} skipped.")
            problems = report.problems
            if report.api_key_users:
                print(f"{report.api_key_users} user(s) logged in with API keys, which App "
                      "Services never exports: they need new keys (users create their own; "
                      "serve.py server-keys makes server keys).")
            if args.send_reset:
                problems += await _resets(services, report.emails, args.reset_rate)
        for line in problems:
            print(f"  {line}")
        return 1 if problems else 0
    finally:
        await services.store.close()


async def _resets(services: Services, emails: list[str], rate: float) -> list[str]:
    if services.settings.userpass.reset != "email":
        return ["--send-reset: this app resets passwords through its reset function, not by "
                "email; imported users reset theirs through the app."]
    problems = await send_resets(services, emails, rate)
    print(f"Reset links mailed at up to {rate:g} per second to the imported email/password "
          "users that have no password yet.")
    return problems
