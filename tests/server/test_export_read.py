"""Reading an App Services export directory into the config dict, and the summary of what is
not served: the realistic export in tests/fixtures/appservices_export (config version 20210101)
and an older 20200603 layout written here."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from server.config_check import ConfigError
from server.export import describe, read_export
from tests.conftest import TEST_STORE

pytestmark = pytest.mark.skipif(TEST_STORE != "sqlite", reason="store-independent")
EXPORT = Path(__file__).resolve().parent.parent / "fixtures" / "appservices_export"


def _write(root: Path, files: dict[str, Any]) -> Path:
    for name, value in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value if isinstance(value, str) else json.dumps(value))
    return root


def test_every_provider_maps_to_its_table_with_secrets_as_names() -> None:
    raw = read_export(EXPORT).raw
    providers = raw["providers"]
    assert sorted(providers) == ["anon-user", "api-key", "custom-function", "custom-token",
                                 "local-userpass", "oauth2-google"]
    assert providers["local-userpass"] == {
        "enabled": True, "confirmation": "function", "reset": "function",
        "confirmation_function": "confirmUser", "reset_function": "resetPassword",
        "confirm_url": "https://tasks.example.com/confirm",
        "reset_url": "https://tasks.example.com/reset",
        "confirm_subject": "Confirm your Task Tracker account",
        "reset_subject": "Reset your Task Tracker password"}
    assert providers["custom-function"] == {"enabled": True, "function_name": "authFunc"}
    token = providers["custom-token"]
    assert token["secret_config"] == {"signing_keys": ["jwtSigningKey"]}
    assert token["audience"] == ["tasktracker"]
    assert token["metadata_fields"][1] == {"name": "email", "field_name": "email",
                                           "required": True}
    google = providers["oauth2-google"]
    assert google["client_id"] == "1234-abc.apps.googleusercontent.com"
    assert google["secret_config"] == {"client_secret": "googleClientSecret"}
    assert google["redirect_uris"] == ["http://localhost:5173/auth/callback"]
    assert raw["app_id"] == "tasktracker-abcde"
    assert raw["cors"] == {"allowed_origins": ["http://localhost:5173"]}
    assert raw["custom_user_data"] == {"enabled": True, "collection": "users",
                                       "user_id_field": "userId"}


def test_values_functions_and_the_environment() -> None:
    raw = read_export(EXPORT).raw
    assert raw["environment"] == "production"
    assert raw["values"] == {"appName": "Task Tracker",
                             "limits": {"maxTasks": 100, "tiers": ["free", "pro"]},
                             "supportEmail": "support@tasks.example.com"}
    assert raw["secret_values"] == {"stripeKey": "stripeApiKey"}
    functions = raw["js_functions"]
    assert functions["hello"] == {"source": "functions/hello.js", "private": False}
    assert functions["authFunc"]["private"] is True
    # A can_evaluate rule cannot be evaluated: the function is kept from clients, not opened.
    assert functions["admin/stats"] == {"source": "functions/admin/stats.js", "private": True}
    assert len(functions) == 12
    development = read_export(EXPORT, "development").raw
    assert development["environment"] == "development"
    assert development["values"]["supportEmail"] == "dev@localhost"


def test_an_unknown_environment_names_the_ones_there() -> None:
    with pytest.raises(ConfigError, match="no environment 'staging'.*development, "
                                          "no-environment, production"):
        read_export(EXPORT, "staging")


def test_the_summary_lists_what_is_not_served_by_name() -> None:
    gaps = read_export(EXPORT).gaps
    text = describe(list(gaps))
    for part in ("Device Sync (flexible)", "triggers: 1 (onNewTask)", "GET /tasks",
                 "GraphQL API", "taskCount", "static hosting", "log forwarders: 1 (toDatadog)",
                 "data source 'mongodb-atlas'", "2 rule and schema files",
                 "functions/package.json", "'admin/stats'", "oauth2-google: metadata_fields"):
        assert part in text, part
    assert text.startswith(f"This App Services export uses {len(gaps)} thing(s)")


def test_a_bare_export_has_nothing_to_summarise(tmp_path: Path) -> None:
    _write(tmp_path, {"realm_config.json": {"app_id": "bare-abcde", "config_version": 20210101},
                      "auth/providers.json": {"anon-user": {"name": "anon-user",
                                                            "type": "anon-user"}}})
    export = read_export(tmp_path)
    assert export.raw == {"app_id": "bare-abcde",
                          "providers": {"anon-user": {"enabled": True}}}
    assert export.gaps == ()
    assert describe([]) == ""


def test_the_20200603_layout(tmp_path: Path) -> None:
    _write(tmp_path, {
        "config.json": {"app_id": "legacy-abcde", "config_version": 20200603,
                        "security": {"allowed_request_origins": ["https://app.example.com"]},
                        "custom_user_data_config": {"enabled": True, "collection_name": "cud",
                                                    "user_id_field": "uid",
                                                    "mongo_service_name": "mongodb-atlas"}},
        "auth_providers/anon-user.json": {"name": "anon-user", "type": "anon-user",
                                          "disabled": True},
        "auth_providers/local-userpass.json": {
            "name": "local-userpass", "type": "local-userpass",
            "config": {"autoConfirm": True, "resetPasswordUrl": "https://app.example.com/r"}},
        "auth_providers/custom-token.json": {
            "name": "custom-token", "type": "custom-token",
            "config": {"signingAlgorithm": "RS256", "useJWKURI": True,
                       "jwkURI": "https://issuer.example.com/jwks.json"}},
        "functions/greet/config.json": {"name": "greet", "private": False},
        "functions/greet/source.js": "exports = (n) => 'hi ' + n;",
        "values/plain.json": {"name": "plain", "value": 42, "from_secret": False},
        "services/mongodb-atlas/config.json": {"name": "mongodb-atlas", "type": "mongodb-atlas"},
        "services/mongodb-atlas/rules/db.coll.json": {"database": "db"},
        "services/http/config.json": {"name": "http", "type": "http"},
        "services/http/incoming_webhooks/hook/config.json": {"name": "hook"},
    })
    export = read_export(tmp_path)
    raw = export.raw
    assert raw["app_id"] == "legacy-abcde"
    assert raw["cors"] == {"allowed_origins": ["https://app.example.com"]}
    assert raw["providers"]["anon-user"] == {"enabled": False}
    assert raw["providers"]["local-userpass"]["confirmation"] == "auto"
    assert raw["providers"]["local-userpass"]["reset_url"] == "https://app.example.com/r"
    assert raw["providers"]["custom-token"] == {
        "enabled": True, "algorithm": "RS256",
        "jwks_url": "https://issuer.example.com/jwks.json"}
    assert raw["custom_user_data"] == {"enabled": True, "collection": "cud",
                                       "user_id_field": "uid"}
    assert raw["js_functions"] == {"greet": {"source": "functions/greet/source.js",
                                             "private": False}}
    assert raw["values"] == {"plain": 42}
    text = describe(list(export.gaps))
    assert "data source 'mongodb-atlas'" in text and "1 rule and schema files" in text
    assert "service 'http' (http)" in text and "http/hook" in text


def test_the_root_file_may_be_named_root_config_json_or_given_itself(tmp_path: Path) -> None:
    _write(tmp_path, {"root_config.json": {"app_id": "new-abcde"}})
    assert read_export(tmp_path).raw["app_id"] == "new-abcde"
    assert read_export(tmp_path / "root_config.json").root_file == tmp_path / "root_config.json"


@pytest.mark.parametrize(("files", "message"), [
    ({}, "is not an App Services export"),
    ({"realm_config.json": "{not json"}, "realm_config.json is not valid JSON"),
    ({"realm_config.json": {"name": "x"}}, "has no app_id"),
    ({"realm_config.json": {"app_id": "a"}, "functions/config.json": [{"name": "gone"}]},
     "lists the function 'gone', but functions/gone.js is not there"),
    ({"realm_config.json": {"app_id": "a"},
      "values/v.json": {"name": "v", "value": "%(%%environment.values.missing)"}},
     r"%\(%%environment.values.missing\), which is not set"),
])
def test_a_broken_export_names_the_file_and_the_problem(
        tmp_path: Path, files: dict[str, Any], message: str) -> None:
    _write(tmp_path, files)
    with pytest.raises(ConfigError, match=message):
        read_export(tmp_path)


def test_an_unknown_provider_type_is_summarised_not_served(tmp_path: Path) -> None:
    shutil.copytree(EXPORT, tmp_path / "app")
    providers = json.loads((tmp_path / "app/auth/providers.json").read_text())
    providers["oauth2-microsoft"] = {"name": "oauth2-microsoft", "type": "oauth2-microsoft"}
    (tmp_path / "app/auth/providers.json").write_text(json.dumps(providers))
    export = read_export(tmp_path / "app")
    assert "oauth2-microsoft" not in export.raw["providers"]
    assert any("'oauth2-microsoft'" in gap and "no such provider" in gap for gap in export.gaps)


def test_expansions_keep_types_and_fill_in_the_tag(tmp_path: Path) -> None:
    _write(tmp_path, {
        "realm_config.json": {"app_id": "x-abcde", "environment": "qa"},
        "environments/qa.json": {"values": {"limit": 5, "host": "qa.example.com"}},
        "values/limit.json": {"name": "limit", "value": "%(%%environment.values.limit)"},
        "values/url.json": {"name": "url",
                            "value": "https://%(%%environment.values.host)/api"},
        "values/tag.json": {"name": "tag", "value": "%(%%environment.tag)"},
    })
    assert read_export(tmp_path).raw["values"] == {"limit": 5, "tag": "qa",
                                                   "url": "https://qa.example.com/api"}


def test_a_function_name_cannot_reach_outside_the_functions_folder(tmp_path: Path) -> None:
    # Found in review: the name "../../outside" read <export>/../outside.js as a function.
    root = tmp_path / "app"
    _write(root, {"realm_config.json": {"app_id": "a"},
                  "functions/config.json": [{"name": "../../outside"}]})
    (tmp_path / "outside.js").write_text("exports = function () { return 1; };")
    with pytest.raises(ConfigError, match="outside the export's functions folder"):
        read_export(root)
