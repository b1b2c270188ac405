"""Reset links after a password change (found by attacking a running server): a reset link mailed
earlier still set a new password after the owner had reset it with a later link, so whoever saw
the old mail kept a way in for its whole lifetime. A new password retires every unused reset
link of the account, by link, by reset function or by the old link itself."""

from __future__ import annotations

import secrets
import time
from typing import Any

from server.services.tokens import digest
from server.store.base import UserpassToken

from .helpers import Api, assert_empty, assert_error, userpass_overrides

EMAIL = "owner@example.com"


def _reset_link(api: Api) -> dict[str, str]:
    assert_empty(api.action("reset/send", {"email": EMAIL}))
    return api.last_mail_tokens(EMAIL)


def test_a_reset_retires_older_reset_links(api: Api) -> None:
    api.user(EMAIL)
    old, new = _reset_link(api), _reset_link(api)
    assert_empty(api.action("reset", {**new, "password": "owner-new-1"}))
    assert_error(api.action("reset", {**old, "password": "attacker-1"}), 400,
                 "UserpassTokenInvalid")
    assert api.log_in(EMAIL, "attacker-1").status_code == 401
    assert api.log_in(EMAIL, "owner-new-1").status_code == 200


def test_a_reset_by_function_retires_mailed_links(make_api: Any) -> None:
    api = make_api(userpass_overrides(reset="function"))
    api.user(EMAIL)
    # A link mailed before the app switched to reset by function.
    link = {"token": secrets.token_hex(32), "tokenId": "65a0c0ffee0000000000abcd"}
    api.run(api.services.store.add_userpass_token, UserpassToken(
        link["tokenId"], digest(link["token"]), EMAIL, "reset", time.time() + 600, False))
    assert_empty(api.action("reset/call", {"email": EMAIL, "password": "owner-new-1",
                                           "arguments": ["let me in"]}))
    assert_error(api.action("reset", {**link, "password": "attacker-1"}), 400,
                 "UserpassTokenInvalid")
    assert api.log_in(EMAIL, "owner-new-1").status_code == 200


def test_links_sent_after_a_reset_work(api: Api) -> None:
    api.user(EMAIL)
    assert_empty(api.action("reset", {**_reset_link(api), "password": "owner-new-1"}))
    assert_empty(api.action("reset", {**_reset_link(api), "password": "owner-new-2"}))
    assert api.log_in(EMAIL, "owner-new-2").status_code == 200
