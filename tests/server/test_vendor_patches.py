"""The patches we carry for the vendored runtimes (``server/vendor_patches.py``): applied to
copies, served in place of the originals while current, refused when they no longer fit."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from server import asset_setup, assets, vendor_patches
from server.web import VENDOR

NAME = "core-C9KDLldu.js"
OLD, NEW = vendor_patches.PATCHES[("pyscript", NAME)][0]


@pytest.fixture
def vendor(tmp_path: Path) -> dict[str, Path]:
    pyscript = tmp_path / "pyscript"
    pyscript.mkdir()
    (pyscript / NAME).write_text("let a=1;" * 200 + OLD + "let b=2;" * 200)
    (pyscript / "core.js").write_text("export {};" * 200)
    return {"/vendor/pyscript": pyscript}


def _get(vendor: dict[str, Path], cache: Path, path: str, encoding: str = "identity") -> bytes:
    routes = assets.vendor_routes(vendor, cache_dir=cache)
    with TestClient(Starlette(routes=routes)) as client:
        response = client.get(path, headers={"Accept-Encoding": encoding})
        assert response.status_code == 200
        return response.content


def test_the_patched_copy_is_served_and_compressed(vendor, tmp_path) -> None:
    cache = tmp_path / "cache"
    report = asset_setup.build(vendor, cache_dir=cache, snapshot=False, log=False)
    assert report["patched"] == 1
    body = _get(vendor, cache, f"/vendor/pyscript/{NAME}").decode()
    assert NEW in body and OLD not in body
    # The gzip copy is of the patched text, not of the original.
    routes = assets.vendor_routes(vendor, cache_dir=cache)
    with TestClient(Starlette(routes=routes)) as client:
        response = client.get(f"/vendor/pyscript/{NAME}", headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"
    copy = cache / "compressed" / "patched" / "pyscript" / (NAME + ".gz")
    assert NEW in gzip.decompress(copy.read_bytes()).decode()
    # Other files are untouched.
    assert _get(vendor, cache, "/vendor/pyscript/core.js") == (vendor["/vendor/pyscript"]
                                                                / "core.js").read_bytes()


def test_the_server_patches_without_setup_and_follows_a_new_source(vendor, tmp_path) -> None:
    cache = tmp_path / "cache"
    assert NEW in _get(vendor, cache, f"/vendor/pyscript/{NAME}").decode()
    # npm ci of the same version (a new mtime): the stale copy is not served, a new one is made.
    source = vendor["/vendor/pyscript"] / NAME
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert vendor_patches.patched_file(cache, "pyscript", NAME, source.stat()) is None
    assert NEW in _get(vendor, cache, f"/vendor/pyscript/{NAME}").decode()


def test_a_patch_that_no_longer_fits_is_refused_and_the_original_served(vendor, tmp_path,
                                                                         capsys) -> None:
    source = vendor["/vendor/pyscript"] / NAME
    source.write_text("a release where the code moved")
    cache = tmp_path / "cache"
    report = asset_setup.build(vendor, cache_dir=cache, snapshot=False, log=False)
    assert NAME in str(report["patch_error"])
    assert _get(vendor, cache, f"/vendor/pyscript/{NAME}") == source.read_bytes()
    assert "served unpatched" in capsys.readouterr().err


def test_every_patch_fits_the_installed_runtime() -> None:
    for (package, relative), replacements in vendor_patches.PATCHES.items():
        directory = next(d for p, d in VENDOR.items() if p.endswith("/" + package))
        source = directory / relative
        if not source.is_file():
            pytest.skip(f"{package} is not installed (npm ci)")
        text = vendor_patches.patched_text(source.read_text(encoding="utf-8"), replacements,
                                           relative)
        assert all(new in text for _, new in replacements)


def test_an_extra_file_is_served_beside_the_package_only_when_fetched(tmp_path) -> None:
    pyodide = tmp_path / "pyodide"
    pyodide.mkdir()
    (pyodide / "pyodide.mjs").write_text("export {};")
    vendor = {"/vendor/pyodide": pyodide}
    cache = tmp_path / "cache"
    name = next(n for p, n in vendor_patches.EXTRA_FILES if p == "pyodide")
    routes = assets.vendor_routes(vendor, public=["/vendor/pyodide"], cache_dir=cache)
    with TestClient(Starlette(routes=routes)) as client:
        assert client.get(f"/vendor/pyodide/{name}").status_code == 404
        extra = vendor_patches.extra_path(cache, "pyodide", name)
        extra.parent.mkdir(parents=True)
        extra.write_bytes(b"PK wheel")
        response = client.get(f"/vendor/pyodide/{name}")
        assert response.content == b"PK wheel"
        assert response.headers["access-control-allow-origin"] == "*"
        assert client.get("/vendor/pyodide/other.whl").status_code == 404
