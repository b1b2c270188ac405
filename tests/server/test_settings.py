"""The app config is checked before the server starts: every key known, every value of its type,
every number in its range, and a message naming the key, the value and what is allowed."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from server.config_check import NUMBER, RANGES, WHOLE, schema_of
from server.settings import CHECKED_TABLES, DEFAULT_CONFIG, REPO_ROOT, ConfigError, Settings

GOOGLE = {"enabled": True, "client_id": "app", "client_secret": "s"}


def load(overrides: dict[str, Any], tmp_path: Path, **kw: Any) -> Settings:
    return Settings.load(DEFAULT_CONFIG, tmp_path, database_url="sqlite::memory:",
                         overrides=overrides, **kw)


def refused(overrides: dict[str, Any], tmp_path: Path, **kw: Any) -> str:
    with pytest.raises(ConfigError) as info:
        load(overrides, tmp_path, **kw)
    return str(info.value)


def test_the_demo_config_passes_every_check(tmp_path: Path) -> None:
    settings = load({}, tmp_path)
    assert settings.refresh_token_seconds == 60 * 86400 and settings.access_token_seconds == 1800


@pytest.mark.parametrize(("overrides", "message"), [
    # The review's case: a 43-second refresh token, though the range is 30 minutes to 180 days.
    ({"tokens": {"refresh_token_days": 43 / 86400}},
     "[tokens] refresh_token_days = 0.000497685 is out of range: allowed 0.02083 to 180 days "
     "(30 minutes to 180 days, App Services' range)."),
    ({"tokens": {"refresh_token_days": 181}}, "refresh_token_days = 181 is out of range"),
    ({"tokens": {"access_token_minutes": 0.5}},
     "[tokens] access_token_minutes = 0.5 is out of range: allowed 1 to 1440 minutes"),
    ({"tokens": {"access_token_minutes": 24 * 60 + 1}}, "access_token_minutes = 1441 is out"),
    ({"function_time_limit_seconds": 0},
     "function_time_limit_seconds = 0 is out of range: allowed 0.1 to 3600 seconds."),
    ({"providers": {"local-userpass": {"token_minutes": 0}}},
     "[providers.local-userpass] token_minutes = 0 is out of range: allowed 1 to 10080 minutes"),
    ({"mail": {"smtp_port": 70000}}, "[mail] smtp_port = 70000 is out of range: allowed 1 to "
                                     "65535."),
    ({"mail": {"smtp_port": 0}}, "[mail] smtp_port = 0 is out of range"),
    ({"security": {"max_body_bytes": 100}},
     "[security] max_body_bytes = 100 is out of range: allowed 1024 to 67_108_864 bytes "
     "(1 KiB to 64 MiB)."),
    ({"security": {"login_failures_per_account": 0}},
     "[security] login_failures_per_account = 0 is out of range: allowed 1 to 1_000_000_000."),
    ({"security": {"login_attempts_per_address": -5}}, "login_attempts_per_address = -5 is out"),
    ({"security": {"rate_window_seconds": 86401}}, "rate_window_seconds = 86401 is out"),
    ({"security": {"mails_per_address": 0}}, "mails_per_address = 0 is out"),
    ({"oauth": {"state_seconds": 7200}},
     "[oauth] state_seconds = 7200 is out of range: allowed 1 to 3600 seconds."),
    ({"providers": {"oauth2-google": {**GOOGLE, "leeway_seconds": 301}}},
     "[providers.oauth2-google] leeway_seconds = 301 is out of range: allowed 0 to 300 seconds."),
    ({"providers": {"oidc-corp": {**GOOGLE, "issuer": "https://id.example",
                                  "jwks_cache_seconds": -1}}},
     "[providers.oidc-corp] jwks_cache_seconds = -1 is out of range: allowed 0 to 86400"),
    ({"providers": {"custom-token": {"leeway_seconds": 3600}}},
     "[providers.custom-token] leeway_seconds = 3600 is out of range: allowed 0 to 300 seconds."),
])
def test_numbers_out_of_range_are_refused(overrides: dict[str, Any], message: str,
                                          tmp_path: Path) -> None:
    assert message in refused(overrides, tmp_path)


@pytest.mark.parametrize(("overrides", "message"), [
    # true is a bool in TOML, never the number 1.
    ({"security": {"max_body_bytes": True}},
     "[security] max_body_bytes = true must be a whole number, 1024 to 67_108_864 bytes"),
    ({"tokens": {"access_token_minutes": "30"}},
     "[tokens] access_token_minutes = '30' must be a number, 1 to 1440 minutes"),
    ({"security": {"login_failures_per_account": 2.5}},
     "[security] login_failures_per_account = 2.5 must be a whole number"),
    ({"mail": {"smtp_port": "25"}}, "[mail] smtp_port = '25' must be a whole number, 1 to 65535."),
    ({"tokens": {"refresh_token_days": float("nan")}}, "refresh_token_days = nan must be a number"),
    ({"function_time_limit_seconds": float("inf")}, "function_time_limit_seconds = inf must be"),
    ({"mail": {"smtp_starttls": "yes"}}, "[mail] smtp_starttls = 'yes' must be true or false."),
    ({"mail": {"console_links": 1}}, "[mail] console_links = 1 must be true or false."),
    ({"providers": {"anon-user": {"enabled": "true"}}},
     "[providers.anon-user] enabled = 'true' must be true or false."),
    ({"providers": {"oauth2-google": {**GOOGLE, "pkce": "false"}}},
     "[providers.oauth2-google] pkce = 'false' must be true or false."),
    ({"mail": {"sender": 5}}, "[mail] sender = 5 must be a string (in quotes)."),
    ({"app_id": 7}, "app_id = 7 must be a string"),
    ({"tokens": 30}, "tokens = 30 must be a table."),
])
def test_values_of_the_wrong_type_are_refused(overrides: dict[str, Any], message: str,
                                              tmp_path: Path) -> None:
    assert message in refused(overrides, tmp_path)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"tokens": {"acess_token_minutes": 5}},
     "[tokens] has an unknown key 'acess_token_minutes' (did you mean 'access_token_minutes'?)"),
    ({"acess_token_seconds": 60}, "The config has an unknown key 'acess_token_seconds'"),
    ({"security": {"max_body_byte": 5000}},
     "[security] has an unknown key 'max_body_byte' (did you mean 'max_body_bytes'?)"),
    ({"mail": {"smtp_pasword": "x"}}, "(did you mean 'smtp_password'?)"),
    ({"providers": {"local-userpass": {"confirmaton": "email"}}},
     "[providers.local-userpass] has an unknown key 'confirmaton' (did you mean "
     "'confirmation'?)"),
    ({"providers": {"oauth2-google": {**GOOGLE, "client_secret_enc": "X"}}},
     "(did you mean 'client_secret_env'?)"),
    ({"providers": {"anon-usr": {"enabled": True}}},
     "[providers.anon-usr] is not a provider (did you mean 'anon-user'?)"),
    ({"custom_user_data": {"colection": "x"}}, "(did you mean 'collection'?)"),
])
def test_unknown_keys_are_refused_by_name(overrides: dict[str, Any], message: str,
                                          tmp_path: Path) -> None:
    assert message in refused(overrides, tmp_path)


def test_the_ends_of_each_range_are_allowed(tmp_path: Path) -> None:
    for days in (30 / 1440, 180):
        assert load({"tokens": {"refresh_token_days": days}}, tmp_path).refresh_token_seconds \
            == round(days * 86400)
    for minutes in (1, 1440):
        assert load({"tokens": {"access_token_minutes": minutes}},
                    tmp_path).access_token_seconds == minutes * 60
    assert load({"mail": {"smtp_port": 65535}, "security": {"max_body_bytes": 1024}},
                tmp_path).security.max_body_bytes == 1024


def test_without_ranges_keys_and_types_are_still_checked(tmp_path: Path) -> None:
    # Tests shorten lifetimes to watch tokens expire; a typo or a wrong type still stops them.
    short = load({"tokens": {"refresh_token_days": 1 / 86400}}, tmp_path, check_ranges=False)
    assert short.refresh_token_seconds == 1
    assert "unknown key" in refused({"tokens": {"refresh_token_dayz": 1}}, tmp_path,
                                    check_ranges=False)
    assert "must be a whole number" in refused({"security": {"max_body_bytes": "1"}}, tmp_path,
                                               check_ranges=False)


def test_every_number_of_the_config_has_a_range() -> None:
    # Rule 1 of server.config_check: a number field added to a checked table (e.g. a new limit
    # at the end of SecuritySettings) needs its line in RANGES.
    numbers = {"function_time_limit_seconds", "function_workers", "function_memory_limit_mib",
               "function_result_limit_kib", "tokens.access_token_minutes",
               "tokens.refresh_token_days", "oauth.state_seconds", "custom_user_data.max_bytes"}
    for table, cls in CHECKED_TABLES.items():
        numbers |= {f"{table}.{key}" for key, kind in schema_of(cls).items()
                    if kind in (NUMBER, WHOLE)}
    assert sorted(numbers - set(RANGES)) == []
    assert sorted(set(RANGES) - numbers) == []  # And no range is left for a key that went.


def test_serve_py_stops_at_once_naming_the_bad_key(tmp_path: Path) -> None:
    demo = DEFAULT_CONFIG.read_text(encoding="utf-8")
    cases = {
        "refresh_token_days = 60": ("refresh_token_days = 0.0005",
                                    "[tokens] refresh_token_days = 0.0005 is out of range"),
        "access_token_minutes = 30": ("acess_token_minutes = 30",
                                      "[tokens] has an unknown key 'acess_token_minutes'"),
    }
    for line, (bad, message) in cases.items():
        assert line in demo
        config = tmp_path / "bad.toml"
        config.write_text(demo.replace(line, bad), encoding="utf-8")
        (tmp_path / "demo_functions.py").write_text("", encoding="utf-8")
        began = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "serve.py", "--config", str(config), "--data-dir",
             str(tmp_path / "data"), "--port", "0"],
            cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, proc.stderr
        assert f"serve.py: {message}" in proc.stderr
        assert proc.stdout == "" and time.monotonic() - began < 20
        assert not (tmp_path / "data").exists()  # Stopped before touching anything.


@pytest.mark.parametrize(("written", "sent"), [
    ("https://Shop.Example.com", "https://shop.example.com"),
    ("https://shop.example.com:443/", "https://shop.example.com"),
    ("HTTP://localhost:5173", "http://localhost:5173"),
    ("http://[::1]:8000", "http://[::1]:8000"),
    ("*", "*"),
])
def test_allowed_origins_are_written_as_browsers_send_them(written: str, sent: str,
                                                           tmp_path: Path) -> None:
    # Found in review: the CORS check compares exactly, so these never matched a browser.
    settings = load({"cors": {"allowed_origins": [written]}}, tmp_path)
    assert settings.allowed_origins == (sent,)


@pytest.mark.parametrize("entry", ["shop.example.com", "https://shop.example.com/app",
                                   "ftp://shop.example.com", "https://shop.example.com?x=1",
                                   "https://user@shop.example.com", "https://x:99999", "null"])
def test_an_allowed_origin_that_is_no_origin_is_refused_by_name(entry: str,
                                                                tmp_path: Path) -> None:
    message = refused({"cors": {"allowed_origins": ["https://ok.example", entry]}}, tmp_path)
    assert message.startswith(f"[cors] allowed_origins: {entry!r} is not an origin")


@pytest.mark.parametrize(("passkey", "message"), [
    ({"rp_id": "127.0.0.1", "origins": ["http://127.0.0.1:8000"]}, "is an IP address"),
    ({"rp_id": "example.com", "origins": ["https://shop.example.org"]},
     "is neither the host of an origin"),
    ({"rp_id": "ample.com", "origins": ["https://example.com"]},
     "is neither the host of an origin"),
])
def test_a_passkey_rp_id_no_browser_would_use_is_refused(passkey: dict[str, Any], message: str,
                                                         tmp_path: Path) -> None:
    # Found in review: these started, and every passkey ceremony failed in the browser.
    text = refused({"providers": {"passkey": {"enabled": True, **passkey}}}, tmp_path)
    assert text.startswith(f"[providers.passkey] rp_id = {passkey['rp_id']!r}") and message in text


def test_a_passkey_rp_id_may_be_a_parent_of_the_origins(tmp_path: Path) -> None:
    settings = load({"providers": {"passkey": {
        "enabled": True, "rp_id": "example.com",
        "origins": ["https://app.example.com", "https://example.com"]}}}, tmp_path)
    assert settings.passkey.rp_id == "example.com"


def test_a_misspelt_mfa_provider_is_refused(tmp_path: Path) -> None:
    # Found in review: ["local-userpas"] started and asked nobody for a second factor.
    text = refused({"mfa": {"enabled": True, "providers": ["local-userpas"]}}, tmp_path)
    assert text.startswith("[mfa] providers: 'local-userpas' is not a login provider")
    settings = load({"mfa": {"enabled": True, "providers": ["local-userpass", "oidc-corp"]}},
                    tmp_path)
    assert settings.mfa.providers == ("local-userpass", "oidc-corp")
