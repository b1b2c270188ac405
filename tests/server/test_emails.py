"""One account per email address in any case or Unicode form (issue 16 item 10).

Registration, login, confirmation, resend, reset and the limits per address all find the
account under ``server.emails.email_key``; the address typed at registration is what the user
sees and where the mails go.
"""

from __future__ import annotations

import unicodedata

import pytest

from server.emails import email_key

from .helpers import Api, assert_empty, assert_error, userpass_overrides

NFC = unicodedata.normalize("NFC", "José.Müller@Example.com")
NFD = unicodedata.normalize("NFD", NFC)


def test_the_key_folds_case_and_unicode_form() -> None:
    assert NFC != NFD
    assert email_key(NFC) == email_key(NFD) == email_key(NFC.upper()) == "josé.müller@example.com"
    assert email_key("Straße@example.com") == email_key("STRASSE@example.com")
    assert email_key("a@example.com") != email_key("a@example.org")


@pytest.mark.parametrize("typed, other", [
    ("Ada@Example.com", "ada@example.com"),
    ("ada@example.com", "ADA@EXAMPLE.COM"),
    (NFC, NFD),
    (NFD, NFC.lower()),
])
def test_one_account_per_address(api: Api, typed: str, other: str) -> None:
    tokens = api.user(typed)
    assert_error(api.register(other, "another password"), 409, "AccountNameInUse")
    again = api.log_in_ok(other)
    assert again["user_id"] == tokens["user_id"]
    # The profile shows the address as it was typed at registration, whatever the login typed.
    profile = api.profile(again["access_token"]).json()
    assert profile["data"]["email"] == typed


def test_confirmation_resend_and_reset_take_any_spelling(make_api) -> None:
    api = make_api(userpass_overrides(confirmation="email"))
    assert_empty(api.register("Grace@Example.com"), 201)
    assert_empty(api.action("confirm/send", {"email": "grace@example.com"}))
    assert_error(api.action("confirm/send", {"email": "nobody@example.com"}), 404, "UserNotFound")
    mails = api.outbox()
    assert [m["to"] for m in mails] == ["Grace@Example.com"] * 2
    assert_empty(api.action("confirm", api.last_mail_tokens("Grace@Example.com")))
    assert_error(api.action("confirm/send", {"email": "GRACE@example.com"}), 400,
                 "UserAlreadyConfirmed")
    api.log_in_ok("grace@EXAMPLE.com")

    assert_empty(api.action("reset/send", {"email": "GRACE@EXAMPLE.COM"}))
    assert api.outbox()[-1]["to"] == "Grace@Example.com"
    tokens = api.last_mail_tokens("Grace@Example.com")
    assert_empty(api.action("reset", {**tokens, "password": "battery staple"}))
    assert api.log_in("grace@example.com", "battery staple").status_code == 200


def test_the_mail_limit_counts_one_address_in_any_spelling(make_api) -> None:
    api = make_api({"security": {"mails_per_address": 2}})
    api.user("Limit@example.com")
    for spelling in ("limit@example.com", "LIMIT@example.com"):
        assert_empty(api.action("reset/send", {"email": spelling}))
    assert_error(api.action("reset/send", {"email": "Limit@Example.com"}), 429, "TooManyRequests")
