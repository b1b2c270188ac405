"""Outgoing email: the console and an outbox file by default, SMTP (``aiosmtplib``) when set.

The outbox (``<data dir>/outbox.jsonl``, mode 0600) is how a developer without a mail server,
and the test suite, read confirmation and reset links. Nothing here is logged through
``logging``: the message bodies hold single-use tokens and go only where mail is meant to go.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from ..settings import MailSettings


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
        """Deliver one message."""
        self._write_outbox(mail)
        if self.settings.console:
            print(f"--- mail to {mail.to}: {mail.subject}\n{mail.body}\n---", file=sys.stderr)
        if self.settings.smtp_host:
            await self._send_smtp(mail)

    def _write_outbox(self, mail: Mail) -> None:
        line = json.dumps({"to": mail.to, "subject": mail.subject, "body": mail.body,
                           "at": time.time()})
        fd = os.open(self.outbox, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
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
