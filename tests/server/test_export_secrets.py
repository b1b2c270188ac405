"""Secrets of an exported app (from ``LATCHKEY_SECRET_<name>`` or ``<data dir>/secrets.json``,
0600) and ``serve.py convert-config``: the TOML it writes holds secret names, never values, and
loads into the same settings as the directory itself."""

from __future__ import annotations

import contextlib
import io
import json
import os
import tomllib
from pathlib import Path

import pytest

import serve
from server.app_secrets import SecretSource, resolve_secrets
from server.config_check import ConfigError
from server.settings import Settings
from tests.conftest import TEST_STORE

pytestmark = pytest.mark.skipif(TEST_STORE != "sqlite", reason="store-independent")
EXPORT = Path(__file__).resolve().parent.parent / "fixtures" / "appservices_export"
VALUES = {"jwtSigningKey": "k" * 40, "googleClientSecret": "g-secret-value",
          "stripeApiKey": "sk_live_value"}


@pytest.fixture
def no_secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("LATCHKEY_SECRET_"):
            monkeypatch.delenv(name)


def _secrets_file(data_dir: Path, values: dict[str, str], mode: int = 0o600) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secrets.json"
    path.write_text(json.dumps(values))
    path.chmod(mode)
    return path


def test_a_missing_secret_stops_the_load_naming_it_and_its_use(
        tmp_path: Path, no_secret_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LATCHKEY_SECRET_jwtSigningKey", VALUES["jwtSigningKey"])
    with pytest.raises(ConfigError) as caught:
        Settings.load(EXPORT, tmp_path / "data")
    text = str(caught.value)
    assert "The secret 'googleClientSecret' (used by [providers.oauth2-google] client_secret) " \
           "is not set: set the environment variable LATCHKEY_SECRET_googleClientSecret" in text
    assert "The secret 'stripeApiKey' (used by the value 'stripeKey')" in text
    assert "jwtSigningKey" not in text and VALUES["jwtSigningKey"] not in text


def test_serve_py_prints_the_missing_secret_and_stops(tmp_path: Path, no_secret_env: None,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert serve.main(["--config", str(EXPORT), "--data-dir", str(tmp_path / "d"),
                       "users", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("serve.py: The secret 'jwtSigningKey' (used by "
                          "[providers.custom-token] signing_keys) is not set")


def test_secrets_come_from_the_private_secrets_file(tmp_path: Path, no_secret_env: None) -> None:
    _secrets_file(tmp_path / "data", VALUES)
    settings = Settings.load(EXPORT, tmp_path / "data")
    assert settings.custom_token.signing_keys == (VALUES["jwtSigningKey"],)
    assert settings.oauth["oauth2-google"].client_secret == VALUES["googleClientSecret"]
    assert settings.values["stripeKey"] == VALUES["stripeApiKey"]


def test_the_environment_wins_over_the_file(tmp_path: Path, no_secret_env: None,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    _secrets_file(tmp_path / "data", VALUES)
    monkeypatch.setenv("LATCHKEY_SECRET_stripeApiKey", "from-the-environment")
    assert Settings.load(EXPORT, tmp_path / "data").values["stripeKey"] == \
        "from-the-environment"


def test_a_secrets_file_others_may_read_is_refused(tmp_path: Path, no_secret_env: None) -> None:
    path = _secrets_file(tmp_path / "data", VALUES, mode=0o644)
    with pytest.raises(ConfigError, match=f"may be read by others .*chmod 600 {path}") as caught:
        Settings.load(EXPORT, tmp_path / "data")
    assert all(v not in str(caught.value) for v in VALUES.values())


def test_a_broken_secrets_file_does_not_quote_itself(tmp_path: Path, no_secret_env: None) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "secrets.json").write_text('{"stripeApiKey": "sk_live_value", oops}')
    (data_dir / "secrets.json").chmod(0o600)
    with pytest.raises(ConfigError, match="is not a readable JSON object") as caught:
        Settings.load(EXPORT, data_dir)
    assert "sk_live" not in str(caught.value)


def test_a_secret_name_with_a_dash_may_use_an_underscore(tmp_path: Path) -> None:
    source = SecretSource(tmp_path, {"LATCHKEY_SECRET_my_key": "v"})
    assert resolve_secrets({"secret_values": {"x": "my-key"}}, source) == {"values": {"x": "v"}}


def _convert(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = serve.main(["convert-config", *args])
    return status, out.getvalue(), err.getvalue()


def test_convert_config_writes_toml_with_secret_names_only(
        tmp_path: Path, no_secret_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    status, text, err = _convert(str(EXPORT), "--environment", "development")
    assert status == 0, err
    raw = tomllib.loads(text)
    assert raw["providers"]["custom-token"]["secret_config"] == {"signing_keys":
                                                                  ["jwtSigningKey"]}
    assert raw["secret_values"] == {"stripeKey": "stripeApiKey"}
    assert raw["values"]["supportEmail"] == "dev@localhost"
    assert "# This App Services export uses 11 thing(s)" in text
    # The function paths are relative to where `> app.toml` writes the file.
    (tmp_path / "app.toml").write_text(text)
    _secrets_file(tmp_path / "data", VALUES)
    from_toml = Settings.load(tmp_path / "app.toml", tmp_path / "data")
    from_dir = Settings.load(EXPORT, tmp_path / "data", environment="development")
    assert {k: (v.source.resolve(), v.private) for k, v in from_toml.js_functions.items()} == \
        {k: (v.source.resolve(), v.private) for k, v in from_dir.js_functions.items()}
    assert from_toml.values == from_dir.values
    assert (from_toml.userpass, from_toml.custom_token, from_toml.oauth, from_toml.providers,
            from_toml.custom_user_data, from_toml.allowed_origins, from_toml.environment) == \
        (from_dir.userpass, from_dir.custom_token, from_dir.oauth, from_dir.providers,
         from_dir.custom_user_data, from_dir.allowed_origins, from_dir.environment)


def test_convert_config_refuses_what_is_not_an_export(tmp_path: Path) -> None:
    status, text, err = _convert(str(tmp_path))
    assert status == 2 and text == ""
    assert "is not an App Services export" in err


def test_mail_may_name_its_smtp_password_as_a_secret(tmp_path: Path) -> None:
    source = SecretSource(tmp_path, {"LATCHKEY_SECRET_smtpPassword": "smtp-pass"})
    raw = {"mail": {"smtp_host": "mail.example.com",
                    "secret_config": {"smtp_password": "smtpPassword"}}}
    assert resolve_secrets(raw, source)["mail"] == {"smtp_host": "mail.example.com",
                                                    "smtp_password": "smtp-pass"}


def test_a_disabled_provider_needs_no_secret(tmp_path: Path) -> None:
    raw = {"providers": {"oauth2-google": {"enabled": False, "client_id": "x",
                                           "secret_config": {"client_secret": "gone"}}}}
    assert resolve_secrets(raw, SecretSource(tmp_path, {})) == {
        "providers": {"oauth2-google": {"enabled": False, "client_id": "x"}}}
