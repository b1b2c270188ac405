"""The vendored runtimes as ``server/assets.py`` serves them: precompressed copies chosen by
``Accept-Encoding``, content-addressed Pyodide URLs, and the quick-start module."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server import asset_setup, assets

WASM = b"\0asm" + bytes(range(256)) * 64


@pytest.fixture
def vendor(tmp_path: Path) -> dict[str, Path]:
    pyodide = tmp_path / "pyodide"
    pyodide.mkdir()
    for name in assets.BUILD_FILES:
        (pyodide / name).write_bytes(WASM if name.endswith(".wasm") else b"x" * 2000)
    (pyodide / "tiny.js").write_text("ok")
    pyscript = tmp_path / "pyscript"
    pyscript.mkdir()
    (pyscript / "core.js").write_text("export {};" * 200)
    return {"/vendor/pyodide": pyodide, "/vendor/pyscript": pyscript}


def _client(vendor: dict[str, Path], cache: Path) -> TestClient:
    routes = assets.vendor_routes(vendor, public=["/vendor/pyodide"], cache_dir=cache)
    return TestClient(Starlette(routes=routes))


@pytest.mark.parametrize(("header", "expected"), [
    ("gzip, deflate, br, zstd", {"gzip", "deflate", "br", "zstd"}),
    ("br;q=0, gzip;q=0.5", {"gzip"}),
    ("GZIP ; q=1", {"gzip"}),
    ("gzip;q=nonsense", set()),
    ("", set()),
    (None, set()),
])
def test_accept_encoding(header: str | None, expected: set[str]) -> None:
    assert assets.accepted_encodings(header) == expected


def test_compressed_copies_are_served_when_accepted_and_fresh(vendor, tmp_path) -> None:
    cache = tmp_path / "cache"
    assert asset_setup.build(vendor, cache_dir=cache, snapshot=False, log=False)["compressed"] > 0
    # Idempotent: nothing is redone.
    assert asset_setup.build(vendor, cache_dir=cache, snapshot=False, log=False)["compressed"] == 0
    client = _client(vendor, cache)
    url = "/vendor/pyodide/pyodide.asm.wasm"

    plain = client.get(url, headers={"accept-encoding": "identity"})
    assert plain.content == WASM and "content-encoding" not in plain.headers
    assert plain.headers["vary"] == "Accept-Encoding"
    assert plain.headers["content-type"] == "application/wasm"
    assert plain.headers["cache-control"] == assets.DAY
    assert plain.headers["access-control-allow-origin"] == "*"

    zipped = client.get(url, headers={"accept-encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == WASM  # httpx decodes it
    assert int(zipped.headers["content-length"]) < len(WASM)
    assert zipped.headers["content-type"] == "application/wasm"
    assert zipped.headers["etag"] != plain.headers["etag"]
    again = client.get(url, headers={"accept-encoding": "gzip",
                                     "if-none-match": zipped.headers["etag"]})
    assert again.status_code == 304

    preferred = client.head(url, headers={"accept-encoding": "gzip, br"})
    expected = "br" if asset_setup._brotli() is not None else "gzip"
    assert preferred.headers["content-encoding"] == expected

    # A copy whose stamp no longer matches its source (a new npm install) is never served.
    source = vendor["/vendor/pyodide"] / "pyodide.asm.wasm"
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    stale = client.get(url, headers={"accept-encoding": "gzip, br"})
    assert "content-encoding" not in stale.headers and stale.content == WASM

    # Small files get no copy; PyScript's files are not public.
    tiny = client.get("/vendor/pyodide/tiny.js", headers={"accept-encoding": "gzip"})
    assert "content-encoding" not in tiny.headers
    core = client.get("/vendor/pyscript/core.js", headers={"accept-encoding": "gzip"})
    assert core.headers["content-encoding"] == "gzip"
    assert "access-control-allow-origin" not in core.headers


def test_copies_are_real_gzip(vendor, tmp_path) -> None:
    cache = tmp_path / "cache"
    asset_setup.build(vendor, cache_dir=cache, snapshot=False, log=False)
    copy = cache / assets.COMPRESSED / "pyodide" / "pyodide.asm.wasm.gz"
    assert gzip.decompress(copy.read_bytes()) == WASM


def test_tagged_prefix_is_immutable_and_only_for_the_current_build(vendor, tmp_path) -> None:
    client = _client(vendor, tmp_path / "cache")
    tag = assets.build_tag(vendor["/vendor/pyodide"])
    assert tag is not None and len(tag) == 16
    good = client.get(f"/vendor/pyodide@{tag}/pyodide.mjs")
    assert good.status_code == 200
    assert good.headers["cache-control"] == assets.IMMUTABLE
    assert client.get("/vendor/pyodide@0123456789abcdef/pyodide.mjs").status_code == 404
    # A new build is a new tag.
    (vendor["/vendor/pyodide"] / "pyodide.asm.wasm").write_bytes(WASM + b"!")
    assert assets.build_tag(vendor["/vendor/pyodide"]) != tag
    assert client.get(f"/vendor/pyodide@{tag}/pyodide.mjs").status_code == 404


def test_boot_module_names_the_build_and_its_snapshot(vendor, tmp_path) -> None:
    cache = tmp_path / "cache"
    client = _client(vendor, cache)
    tag = assets.build_tag(vendor["/vendor/pyodide"])
    boot = client.get("/vendor/pyodide-boot.mjs")
    assert boot.status_code == 200
    assert boot.headers["content-type"].startswith("text/javascript")
    assert boot.headers["cache-control"] == "no-cache"
    assert f'new URL("/vendor/pyodide@{tag}/", import.meta.url)' in boot.text
    assert "const snapshotPath = null;" in boot.text
    # Public, as Pyodide is: pages of other origins (the embed) import it.
    assert boot.headers["access-control-allow-origin"] == "*"
    assert "__" not in boot.text.replace("__bench", "")  # Every placeholder filled in.
    assert client.get("/vendor/pyodide-boot.mjs",
                      headers={"if-none-match": boot.headers["etag"]}).status_code == 304

    snapshot = assets.snapshot_path(tag, cache)
    snapshot.parent.mkdir(parents=True)
    snapshot.write_bytes(b"\1" * 4096)
    boot = client.get("/vendor/pyodide-boot.mjs")
    assert f'const snapshotPath = "/vendor/pyodide-snapshot/{tag}.bin";' in boot.text
    served = client.get(f"/vendor/pyodide-snapshot/{tag}.bin")
    assert served.content == b"\1" * 4096
    assert served.headers["cache-control"] == assets.IMMUTABLE
    assert served.headers["access-control-allow-origin"] == "*"


def test_without_pyodide_the_boot_module_is_missing(tmp_path) -> None:
    client = _client({"/vendor/pyodide": tmp_path / "nothing"}, tmp_path / "cache")
    assert client.get("/vendor/pyodide-boot.mjs").status_code == 404
    assert client.get("/vendor/pyodide/pyodide.mjs").status_code == 404


def test_no_snapshot_without_a_browser(vendor, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr("server.snapshot.find_chromium", lambda explicit=None: None)
    report = asset_setup.build(vendor, cache_dir=tmp_path / "cache", log=False)
    assert report["snapshot"] is None


def test_the_app_boot_module_uses_the_app_snapshot_only_while_the_app_is_unchanged(
        vendor, tmp_path) -> None:
    root = tmp_path / "repo"
    (root / "app" / "sdk").mkdir(parents=True)
    (root / "app" / "__init__.py").write_text("")
    (root / "app" / "sdk" / "__init__.py").write_text("X = 1\n")
    cache = tmp_path / "cache"
    routes = assets.vendor_routes(vendor, public=["/vendor/pyodide"], cache_dir=cache,
                                  app_root=root)
    client = TestClient(Starlette(routes=routes))
    tag = assets.build_tag(vendor["/vendor/pyodide"])
    base = assets.snapshot_path(tag, cache)
    base.parent.mkdir(parents=True)
    base.write_bytes(b"\1" * 4096)
    with_app = assets.snapshot_path(tag, cache, assets.app_digest(root))
    assert with_app.name.startswith(tag + "-")
    # No app snapshot yet: the base one.
    assert f'"/vendor/pyodide-snapshot/{tag}.bin"' in client.get(assets.APP_BOOT).text
    with_app.write_bytes(b"\2" * 4096)
    boot = client.get(assets.APP_BOOT)
    assert f'"/vendor/pyodide-snapshot/{with_app.name}"' in boot.text
    assert boot.headers["access-control-allow-origin"] == "*"
    # Other sites' pages never get our modules.
    assert f'"/vendor/pyodide-snapshot/{tag}.bin"' in client.get("/vendor/pyodide-boot.mjs").text
    # A changed SDK file: back to the base snapshot until setup makes a new one.
    (root / "app" / "sdk" / "__init__.py").write_text("X = 22\n")  # (another size, too)
    assert f'"/vendor/pyodide-snapshot/{tag}.bin"' in client.get(assets.APP_BOOT).text
