"""Tier (a): the storage protocol, the realm-web key layout and the storage adapters."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from app.sdk import MemoryStorage
from app.sdk.adapters.browser import LocalStorage
from app.sdk.adapters.native import FileStorage
from app.sdk.storage import AppStorage, PrefixedStorage


def test_memory_storage_basics() -> None:
    storage = MemoryStorage()
    storage.set("a", "1")
    assert storage.get("a") == "1" and storage.get("b") is None
    storage.remove("a")
    storage.remove("a")
    assert storage.items == {}


def test_prefixes_nest_with_colons_and_clear_only_their_keys() -> None:
    storage = MemoryStorage({"app(x2):k": "keep"})
    nested = storage.prefix("app(x)").prefix("user(u)")
    nested.set("accessToken", "t")
    assert storage.items["app(x):user(u):accessToken"] == "t"
    storage.prefix("app(x)").clear()
    assert storage.items == {"app(x2):k": "keep"}


def test_app_storage_uses_the_realm_web_layout() -> None:
    storage = MemoryStorage()
    app = AppStorage(storage, "demo")
    user = app.user("u1")
    user.access_token, user.refresh_token, user.provider_type = "a", "r", "anon-user"
    user.save_profile({"type": "normal", "identities": [], "data": {}})
    app.set_user_ids(["u1"], merge=False)
    app.set_device_id("ab" * 12)
    assert set(storage.items) == {
        "app(demo):userIds",
        "app(demo):deviceId",
        "app(demo):user(u1):accessToken",
        "app(demo):user(u1):refreshToken",
        "app(demo):user(u1):providerType",
        "app(demo):user(u1):profile",
    }
    user.access_token = None
    assert "app(demo):user(u1):accessToken" not in storage.items


def test_user_ids_merge_with_ids_added_by_other_apps() -> None:
    storage = MemoryStorage({"app(demo):userIds": json.dumps(["b", "c"])})
    app = AppStorage(storage, "demo")
    app.set_user_ids(["a", "b"], merge=True)
    assert app.user_ids() == ["a", "b", "c"]
    app.set_user_ids(["a"], merge=True, exclude="b")
    assert app.user_ids() == ["a", "c"]
    app.set_user_ids(["a"], merge=False)
    assert app.user_ids() == ["a"]


def test_user_ids_are_deduplicated_on_read() -> None:
    storage = MemoryStorage({"app(demo):userIds": json.dumps(["a", "b", "a"])})
    assert AppStorage(storage, "demo").user_ids() == ["a", "b"]


@pytest.mark.parametrize("stored", ['{"a": 1}', "[1, 2]", "not json", '[""]'])
def test_unreadable_user_ids_raise_value_error(stored: str) -> None:
    storage = MemoryStorage({"app(demo):userIds": stored})
    with pytest.raises(ValueError):
        AppStorage(storage, "demo").user_ids()


def test_device_ids() -> None:
    storage = MemoryStorage()
    app = AppStorage(storage, "demo")
    app.set_device_id("0" * 24)
    app.set_device_id(None)
    assert app.device_id() is None and storage.items == {}
    app.set_device_id("ab" * 12)
    assert app.device_id() == "ab" * 12
    storage.set("app(demo):deviceId", "nonsense")
    with pytest.raises(ValueError):
        app.device_id()


def test_prefixed_storage_works_over_objects_without_a_prefix_method() -> None:
    class Bare:
        def __init__(self) -> None:
            self.items: dict[str, str] = {}

        def get(self, key: str) -> str | None:
            return self.items.get(key)

        def set(self, key: str, value: str) -> None:
            self.items[key] = value

        def remove(self, key: str) -> None:
            self.items.pop(key, None)

        def clear(self, prefix: str = "") -> None:
            self.items = {k: v for k, v in self.items.items() if not k.startswith(prefix)}

    bare = Bare()
    AppStorage(bare, "demo").set_user_ids(["a"], merge=False)  # type: ignore[arg-type]
    assert bare.items == {"app(demo):userIds": '["a"]'}
    assert isinstance(PrefixedStorage(bare, "p"), PrefixedStorage)  # type: ignore[arg-type]


def test_file_storage_persists_atomically(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "session.json"
    storage = FileStorage(path)
    storage.set("a", "1")
    storage.set("b", "2")
    storage.remove("a")
    assert json.loads(path.read_text()) == {"b": "2"}
    assert FileStorage(path).get("b") == "2"
    storage.clear("b")
    assert FileStorage(path).get("b") is None
    assert [p.name for p in path.parent.iterdir()] == ["session.json"], "no temp files left"


@pytest.mark.parametrize("content", ["{broken", "[1]", '{"a": 1}'])
def test_file_storage_ignores_unreadable_files(
    tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "session.json"
    path.write_text(content)
    with caplog.at_level(logging.WARNING, logger="app.sdk"):
        storage = FileStorage(path)
        assert storage.get("a") is None
    assert "storage file" in caplog.text
    storage.set("a", "x")
    assert json.loads(path.read_text()) == {"a": "x"}


class FakeLocalStorage:
    """The Web Storage interface, as Pyodide exposes it: getItem returns None for a miss."""

    def __init__(self) -> None:
        self.data: dict[str, str] = {}

    def getItem(self, key: str) -> str | None:  # noqa: N802 (the Web Storage API's name)
        return self.data.get(key)

    def setItem(self, key: str, value: str) -> None:  # noqa: N802
        self.data[key] = value

    def removeItem(self, key: str) -> None:  # noqa: N802
        self.data.pop(key, None)

    def key(self, index: int) -> str | None:
        keys = list(self.data)
        return keys[index] if index < len(keys) else None

    @property
    def length(self) -> int:
        return len(self.data)


def test_local_storage_adds_the_realm_web_prefix() -> None:
    backend = FakeLocalStorage()
    backend.setItem("other", "x")
    storage = LocalStorage(backend=backend)
    AppStorage(storage, "demo").set_user_ids(["u"], merge=False)
    assert backend.data["realm-web:app(demo):userIds"] == '["u"]'
    storage.prefix("app(demo)").clear()
    assert backend.data == {"other": "x"}


def test_local_storage_needs_a_browser_under_cpython() -> None:
    with pytest.raises(RuntimeError, match="Pyodide"):
        LocalStorage()
