"""Outgoing mail: a real SMTP server (aiosmtpd) on loopback, and the outbox without one."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from .helpers import Api, assert_empty, mail_tokens, userpass_overrides

SENDER = "Latchkey tests <no-reply@latchkey.test>"


class Inbox:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def smtp_app(make_api, port: int, data_dir: Any = None, **userpass: Any) -> Api:
    return make_api({
        "mail": {"smtp_host": "127.0.0.1", "smtp_port": port, "sender": SENDER, "console": True},
        **userpass_overrides(**userpass),
    }, data_dir=data_dir)


def test_confirmation_mail_arrives_over_smtp(make_api, smtp, capfd) -> None:
    inbox, port = smtp
    api = smtp_app(make_api, port, confirmation="email", confirm_subject="Confirm, please",
                   confirm_url="https://app.example/confirm?lang=en")
    assert_empty(api.register("smtp@example.com"), 201)
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["smtp@example.com"]
    assert envelope.mail_from == "no-reply@latchkey.test"
    [msg] = inbox.messages
    assert msg["To"] == "smtp@example.com" and msg["From"] == SENDER
    assert msg["Subject"] == "Confirm, please"
    body = msg.get_content()
    assert "https://app.example/confirm?lang=en&token=" in body
    tokens = mail_tokens(body)
    assert_empty(api.action("confirm", tokens))
    assert api.log_in("smtp@example.com").status_code == 200
    # With a mail server, the live token goes there only: not to the console, not to disk.
    assert not (api.data_dir / "outbox.jsonl").exists()
    out, err = capfd.readouterr()
    assert tokens["token"] not in out + err


def test_reset_mail_arrives_over_smtp(make_api, smtp) -> None:
    inbox, port = smtp
    api = smtp_app(make_api, port, reset_url="https://app.example/reset")
    api.user("reset@example.com")
    assert_empty(api.action("reset/send", {"email": "reset@example.com"}))
    [msg] = inbox.messages
    assert msg["Subject"] == "Reset your password"
    body = msg.get_content()
    assert "https://app.example/reset?token=" in body
    assert_empty(api.action("reset", {**mail_tokens(body), "password": "brand new password"}))
    assert api.log_in("reset@example.com", "brand new password").status_code == 200


def test_an_unreachable_mail_server_does_not_lose_the_registration(make_api, smtp, caplog) -> None:
    inbox, port = smtp
    api = smtp_app(make_api, free_port(), confirmation="email")
    with caplog.at_level(logging.ERROR, logger="latchkey.server"):
        assert_empty(api.register("late@example.com"), 201)
    assert "late@example.com" in caplog.text and "token=" not in caplog.text
    # Once mail works again, the user asks for another message and finishes.
    fixed = smtp_app(make_api, port, confirmation="email", data_dir=api.data_dir)
    assert_empty(fixed.action("confirm/send", {"email": "late@example.com"}))
    assert_empty(fixed.action("confirm", mail_tokens(inbox.messages[-1].get_content())))
    assert fixed.log_in("late@example.com").status_code == 200


def test_the_demo_console_mailer_keeps_links_out_of_the_log(make_api, capfd, caplog) -> None:
    # {"mail": {}} keeps the demo config's own [mail] table (the test default silences it).
    api = make_api({"mail": {}, **userpass_overrides(confirmation="email")})
    with caplog.at_level(logging.DEBUG):
        assert_empty(api.register("dev@example.com"), 201)
        assert_empty(api.action("confirm", api.last_mail_tokens("dev@example.com")))
        assert_empty(api.action("reset/send", {"email": "dev@example.com"}))
    confirm, reset = api.outbox()
    assert confirm["to"] == reset["to"] == "dev@example.com"
    assert reset["subject"] == "Reset your password"
    out, err = capfd.readouterr()
    logs = "\n".join([out, err, caplog.text])
    for mail in (confirm, reset):
        tokens = mail_tokens(mail["body"])
        assert tokens["token"] not in logs and tokens["tokenId"] not in logs
    assert "token=" not in logs
    # The console still says that a mail went out, to whom, and where its link is.
    outbox = str(api.data_dir / "outbox.jsonl")
    assert f"mail to 'dev@example.com': 'Reset your password'; link withheld, see {outbox}" in err


def test_console_links_prints_whole_mails_when_asked_for(make_api, capfd) -> None:
    api = make_api({"mail": {"console_links": True},
                    **userpass_overrides(confirmation="email")})
    api.register("dev@example.com")
    [mail] = api.outbox()
    assert mail["to"] == "dev@example.com" and mail["subject"] == "Confirm your email"
    tokens = mail_tokens(mail["body"])
    assert tokens["token"] in capfd.readouterr().err


def test_an_outbox_readable_by_others_is_made_private(make_api, tmp_path) -> None:
    data_dir = tmp_path / "loose"
    data_dir.mkdir()
    (data_dir / "outbox.jsonl").write_text("")
    (data_dir / "outbox.jsonl").chmod(0o644)
    api = make_api(userpass_overrides(confirmation="email"), data_dir=data_dir)
    api.register("dev@example.com")
    assert (data_dir / "outbox.jsonl").stat().st_mode & 0o777 == 0o600
    assert len(api.outbox()) == 1
