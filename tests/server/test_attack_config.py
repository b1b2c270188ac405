"""Config a careless operator writes (found by attacking a running server): a ``public_url``
that is not an http(s) URL with a host starts every mail link, error link and location answer,
so it stops ``serve.py`` with a message naming the key and the value."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from server.settings import REPO_ROOT, ConfigError
from tests.conftest import make_settings

BAD = ["auth.example.com", "javascript:alert(1)", "ftp://auth.example.com",
       "https://", "https://auth.example.com/?next=x", "https://auth.example.com/#top",
       "https://user:pw@auth.example.com", "https://auth.example.com:99999"]
GOOD = ["https://auth.example.com", "http://127.0.0.1:8000/", "https://example.com/latchkey/"]


@pytest.mark.parametrize("value", BAD)
def test_a_bad_public_url_in_the_config_stops_the_server(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        make_settings(tmp_path / "data", {"public_url": value})
    assert "public_url" in str(info.value) and repr(value) in str(info.value)


@pytest.mark.parametrize("value", GOOD)
def test_good_public_urls_pass(tmp_path: Path, value: str) -> None:
    assert make_settings(tmp_path / "data", {"public_url": value}).public_url == value


def test_serve_py_refuses_a_bad_public_url_flag(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "serve.py", "--port", "1", "--data-dir", str(tmp_path / "d"),
         "--public-url", "auth.example.com"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "public_url = 'auth.example.com'" in done.stderr + done.stdout


# Review finding J: strings that type-check but can never work stop the server by name.
NEVER_WORK = [
    ({"app_id": "a b/c"}, "app_id"),
    ({"app_id": "app\u00e9"}, "app_id"),
    ({"providers": {"local-userpass": {"confirm_url": "javascript:alert(1)"}}}, "confirm_url"),
    ({"providers": {"local-userpass": {"reset_url": "/reset.html"}}}, "reset_url"),
    ({"providers": {"local-userpass": {"reset_url": "https://x.example/r#t"}}}, "reset_url"),
    ({"custom_user_data": {"user_id_field": ""}}, "user_id_field"),
    ({"custom_user_data": {"collection": " "}}, "collection"),
]


@pytest.mark.parametrize(("overrides", "key"), NEVER_WORK)
def test_config_strings_that_can_never_work_stop_the_server(tmp_path: Path, overrides, key
                                                             ) -> None:
    with pytest.raises(ConfigError) as info:
        make_settings(tmp_path / "data", overrides)
    assert key in str(info.value)


def test_good_mail_links_and_app_ids_pass(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", {
        "app_id": "My_app-abcde",
        "providers": {"local-userpass": {"confirm_url": "https://x.example/confirm?lang=en",
                                         "reset_url": "http://127.0.0.1:8000/reset.html"}}})
    assert settings.app_id == "My_app-abcde"
