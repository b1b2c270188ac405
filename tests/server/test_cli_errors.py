"""serve.py refuses bad command lines with one clear line, before it binds or opens anything."""

from __future__ import annotations

import pytest

import serve


@pytest.mark.parametrize(("port", "reason"), [("99999", "ports are 0 to 65535"),
                                              ("-1", "ports are 0 to 65535"),
                                              ("http", "a whole number")])
def test_a_port_out_of_range_is_refused(port: str, reason: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    # uvloop bound --port 99999 as 34463 (99999 % 65536) and said it served on :99999.
    with pytest.raises(SystemExit) as exit_info:
        serve.main(["--port", port])
    assert exit_info.value.code == 2
    assert reason in capsys.readouterr().err


def test_every_address_without_a_public_url_warns_about_the_links() -> None:
    # Found in review: `--host 0.0.0.0` mailed reset links to http://0.0.0.0:8000/reset.html.
    warning = serve._wildcard_link_warning("0.0.0.0", "http://0.0.0.0:8000", "")
    assert "http://0.0.0.0:8000" in warning and "--public-url" in warning
    assert serve._wildcard_link_warning("::", "http://:::8000", "")
    assert serve._wildcard_link_warning("0.0.0.0", "http://0.0.0.0:8000",
                                        "https://auth.example.com") == ""
    assert serve._wildcard_link_warning("127.0.0.1", "http://127.0.0.1:8000", "") == ""


def test_an_ipv6_listening_address_makes_urls_with_brackets() -> None:
    # Found in review: `--host ::1` made links like http://::1:8000/docs/errors#...
    assert serve._listen_url("::1", 8000) == "http://[::1]:8000"
    assert serve._listen_url("[::1]", 8000) == "http://[::1]:8000"
    assert serve._listen_url("127.0.0.1", 8000) == "http://127.0.0.1:8000"
    assert serve._wildcard_link_warning("::", serve._listen_url("::", 80), "")


def test_users_help_describes_each_action(capsys: pytest.CaptureFixture[str]) -> None:
    # Review finding L: `users --help` listed the actions without saying what they do.
    with pytest.raises(SystemExit) as exit_info:
        serve.main(["users", "--help"])
    assert exit_info.value.code == 0
    shown = capsys.readouterr().out
    for action in ("list", "show USER_ID", "disable USER_ID", "enable USER_ID",
                   "delete USER_ID", "reset-factors USER_ID"):
        assert f"\n  {action} " in shown, action
    assert "custom user data" in shown and "recovery codes" in shown
