"""Outgoing email: SMTP (``aiosmtplib``) when a host is set, else the outbox and the console.

The outbox (``<data dir>/outbox.jsonl``, mode 0600) is how a developer without a mail server, and
the test suite, read confirmation and reset links. With a mail server, messages go there only.

Rule: a mail body holds live single-use tokens, so it never reaches a log. Without a mail server
the console (the server's stderr, i.e. its log) says only who got which mail and where to find
it; the whole message is printed there only when ``[mail] console_links = true`` asks for it, for
local development. Bodies are never logged through ``logging``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from ..observability.console import say
from ..settings import MailSettings

log = logging.getLogger("latchkey.server")


@dataclass(frozen=True, slots=True)
class Mail:
    """One message."""

    to: str
    subject: str
    body: str


class Mailer:
    """Delivers messages to the outbox, the console and, when configured, an SMTP server."""

    def __init__(self, settings: MailSettings, data_dir: Path) -> None:
        self.settings = settings
        self.outbox = data_dir / "outbox.jsonl"

    async def send(self, mail: Mail) -> None:
        """Deliver one message.

        A failed SMTP delivery is logged (recipient and reason) and not raised: the registration
        or reset it belongs to is stored already, and the user can ask for the mail again.
        """
        if self.settings.smtp_host:
            try:
                await self._send_smtp(mail)
            except (aiosmtplib.SMTPException, OSError) as exc:
                log.error("could not send mail to %s through %s:%s: %s: %s", mail.to,
                          self.settings.smtp_host, self.settings.smtp_port,
                          type(exc).__name__, exc)
            return
        self._write_outbox(mail)
        if not self.settings.console:
            return
        if self.settings.console_links:
            print(f"--- mail to {mail.to}: {mail.subject}\n{mail.body}\n---", file=sys.stderr)
        else:
            say(f"mail to {mail.to!r}: {mail.subject!r}; link withheld, see {self.outbox} "
                "([mail] console_links = true prints it here)", stream=sys.stderr)

    def _write_outbox(self, mail: Mail) -> None:
        line = json.dumps({"to": mail.to, "subject": mail.subject, "body": mail.body,
                           "at": time.time()})
        fd = os.open(self.outbox, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        # A file made by hand or by an old version may be readable by others; it holds tokens.
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")

    async def _send_smtp(self, mail: Mail) -> None:
        msg = EmailMessage()
        msg["From"] = self.settings.sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg.set_content(mail.body)
        await aiosmtplib.send(
            msg,
            hostname=self.settings.smtp_host,
            port=self.settings.smtp_port,
            username=self.settings.smtp_username or None,
            password=self.settings.smtp_password or None,
            start_tls=self.settings.smtp_starttls,
            timeout=10,
        )
