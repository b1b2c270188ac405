"""Setup of the vendored runtimes: the compressed copies and the memory snapshots that
``server.assets`` serves (its rules 1, 3, 4 and 5).

``python -m server.assets`` (``scripts/setup``) runs ``main`` here; nothing in this module runs
while the server serves requests, and the server works without what it makes, only slower.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import app_bytecode, vendor_patches
from .assets import (
    BROTLI_QUALITY,
    BROTLI_WINDOW,
    CACHE_DIR,
    COMPRESSED,
    COMPRESSIBLE,
    ENCODINGS,
    MIN_COMPRESS_BYTES,
    SNAPSHOTS,
    app_digest,
    build_tag,
    snapshot_path,
)
from .settings import REPO_ROOT


def _compressible(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if (path.is_file() and path.suffix in COMPRESSIBLE
                and path.stat().st_size >= MIN_COMPRESS_BYTES
                and ".cache" not in path.relative_to(directory).parts):
            yield path


def _brotli() -> Any:
    try:
        import brotli  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return None
    return brotli


def compress_tree(directory: Path, copies: Path) -> int:
    """Write the missing or stale ``.br``/``.gz`` copies of ``directory``'s files; how many."""
    brotli = _brotli()
    made = 0
    for path in _compressible(directory):
        source = path.stat()
        relative = path.relative_to(directory).as_posix()
        data: bytes | None = None
        for encoding, suffix in ENCODINGS:
            if encoding == "br" and brotli is None:
                continue
            copy = copies / (relative + suffix)
            try:
                if copy.stat().st_mtime_ns == source.st_mtime_ns:
                    continue
            except OSError:
                pass
            data = path.read_bytes() if data is None else data
            if encoding == "br":
                packed: bytes = brotli.compress(data, quality=BROTLI_QUALITY, lgwin=BROTLI_WINDOW)
            else:
                packed = gzip.compress(data, compresslevel=9, mtime=0)
            if len(packed) >= len(data):
                continue  # Already compressed (a zip of deflated files): not worth a copy.
            vendor_patches.write_like(copy, packed, source)
            made += 1
    return made


def _served_copies(pyodide_dir: Path, cache_dir: Path) -> dict[str, Path]:
    # {file name: the repacked copy served in its place} (server.vendor_patches rule 4).
    copies: dict[str, Path] = {}
    for package, name in vendor_patches.REPACKS:
        source = pyodide_dir / name
        if package == "pyodide" and source.is_file():
            copy = vendor_patches.patched_file(cache_dir, package, name, source.stat())
            if copy is not None:
                copies[name] = copy
    return copies


def _app_snapshot(pyodide_dir: Path, tag: str, cache_dir: Path, app_root: Path,
                  chromium: str | None, say: Any, served: dict[str, Path]) -> str | None:
    from . import snapshot as snapshots

    digest = app_digest(app_root)
    target = snapshot_path(tag, cache_dir, digest)
    # Snapshots of earlier versions of the app are never served again (rule 5).
    for old in (cache_dir / SNAPSHOTS).glob(f"{tag}-*.bin"):
        if old != target:
            old.unlink()
            for _, suffix in ENCODINGS:
                (cache_dir / COMPRESSED / SNAPSHOTS / (old.name + suffix)).unlink(missing_ok=True)
    if target.is_file():
        return str(target)
    started = time.monotonic()
    sources = {rel: path.read_text(encoding="utf-8")
               for rel, path in snapshots.app_files(app_root).items()}
    archive = _archive_sources(app_root)
    try:
        compiled = snapshots.build_snapshot(
            pyodide_dir, target, tag, chromium=chromium, app_sources=sources, overrides=served,
            compile_script=app_bytecode.compile_script(archive, snapshots.APP_ROOT))
    except snapshots.SnapshotUnavailable as exc:
        say(f"no snapshot of the app ({exc}); pages start from the base snapshot")
        return None
    say(f"made the app's snapshot {target.name} ({target.stat().st_size / 1e6:.1f} MB, "
        f"{time.monotonic() - started:.0f} s)")
    if compiled:
        app_bytecode.store(cache_dir, tag, archive, compiled, snapshots.APP_ROOT)
    return str(target)


def _archive_sources(app_root: Path) -> dict[str, bytes]:
    # The files whose .pyc go into /app.zip (server.app_bytecode rules 2 and 4).
    from .app_archive import archive_files, pyscript_dist

    sources = {rel: (app_root / rel).read_bytes() for rel in archive_files(app_root)}
    return {**sources, **app_bytecode.pyscript_sources(pyscript_dist())}


def _app_bytecode(pyodide_dir: Path, tag: str, cache_dir: Path, app_root: Path,
                  chromium: str | None, say: Any, served: dict[str, Path]) -> int:
    # The .pyc of /app.zip when a file has none (server.app_bytecode rule 3).
    from . import snapshot as snapshots

    archive = _archive_sources(app_root)
    if not app_bytecode.missing(cache_dir, tag, archive):
        return 0
    started = time.monotonic()
    try:
        compiled = snapshots.build_snapshot(
            pyodide_dir, snapshot_path(tag, cache_dir), tag, chromium=chromium,
            overrides=served, make_snapshot=False,
            compile_script=app_bytecode.compile_script(archive, snapshots.APP_ROOT))
    except snapshots.SnapshotUnavailable as exc:
        say(f"no precompiled Python for /app.zip ({exc})")
        return 0
    made = app_bytecode.store(cache_dir, tag, archive, compiled or "{}", snapshots.APP_ROOT)
    say(f"compiled {made} modules of /app.zip in {time.monotonic() - started:.0f} s")
    return made


def build(vendor: dict[str, Path], *, cache_dir: Path = CACHE_DIR, snapshot: bool = True,
          chromium: str | None = None, log: bool = True,
          extras: bool = False, app_root: Path | None = None) -> dict[str, object]:
    """Everything rules 1-4 serve: the Pyodide snapshot (if Chromium is there), the patched
    copies and (``extras``) the extra files, then the compressed copies. Idempotent: what is up
    to date is left alone."""
    from . import snapshot as snapshots

    def say(text: str) -> None:
        if log:
            print(f"assets: {text}", flush=True)

    report: dict[str, object] = {}
    try:
        report["patched"] = vendor_patches.apply_patches(vendor, cache_dir)
    except vendor_patches.PatchError as exc:
        # Said, and the exit status of ``python -m server.assets`` fails setup (rule 4).
        say(f"ERROR: {exc}")
        report["patch_error"] = str(exc)
    started = time.monotonic()
    report["repacked"] = vendor_patches.apply_repacks(vendor, cache_dir)
    if report["repacked"]:
        say(f"repacked {report['repacked']} files in {time.monotonic() - started:.0f} s")
    pyodide_dir = vendor.get("/vendor/pyodide")
    tag = build_tag(pyodide_dir) if pyodide_dir is not None else None
    for stale in (cache_dir / "snapshot", cache_dir / COMPRESSED / "snapshot"):
        # Snapshots of the deflated standard library zip, never served now (SNAPSHOTS).
        shutil.rmtree(stale, ignore_errors=True)
    # The snapshot is made from the files the pages get (server.snapshot rule 1).
    served = _served_copies(pyodide_dir, cache_dir) if pyodide_dir is not None else {}
    if snapshot and pyodide_dir is not None and tag is not None:
        target = snapshot_path(tag, cache_dir)
        if target.is_file():
            report["snapshot"] = str(target)
        else:
            started = time.monotonic()
            try:
                snapshots.build_snapshot(pyodide_dir, target, tag, chromium=chromium,
                                         overrides=served)
            except snapshots.SnapshotUnavailable as exc:
                say(f"no Pyodide snapshot ({exc}); pages start without it, about 2 s slower")
                report["snapshot"] = None
            else:
                say(f"made the Pyodide snapshot {target.name} "
                    f"({target.stat().st_size / 1e6:.1f} MB, {time.monotonic() - started:.0f} s)")
                report["snapshot"] = str(target)
        if app_root is not None and report["snapshot"]:
            report["app_snapshot"] = _app_snapshot(pyodide_dir, tag, cache_dir, app_root,
                                                   chromium, say, served)
            report["bytecode"] = _app_bytecode(pyodide_dir, tag, cache_dir, app_root,
                                               chromium, say, served)
    report["extra"] = vendor_patches.fetch_extra_files(cache_dir, say) if extras else 0
    started = time.monotonic()
    made = 0
    patched_dir = cache_dir / vendor_patches.PATCHED
    if patched_dir.is_dir():
        made += compress_tree(patched_dir, cache_dir / COMPRESSED / vendor_patches.PATCHED)
    for prefix, directory in vendor.items():
        if directory.is_dir():
            made += compress_tree(directory, cache_dir / COMPRESSED / prefix.rsplit("/", 1)[-1])
    snapshot_dir = cache_dir / SNAPSHOTS
    if snapshot_dir.is_dir():
        made += compress_tree(snapshot_dir, cache_dir / COMPRESSED / SNAPSHOTS)
    if made:
        kinds = "brotli and gzip" if _brotli() is not None else "gzip (no brotli module)"
        say(f"compressed {made} files ({kinds}) in {time.monotonic() - started:.0f} s")
    report["compressed"] = made
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m server.assets [--no-snapshot] [--no-fetch] [--chromium PATH]``."""
    from .web import VENDOR

    parser = argparse.ArgumentParser(prog="python -m server.assets", description=assets_doc(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-snapshot", action="store_true", help="skip the Pyodide snapshot")
    parser.add_argument("--chromium", help="the browser that makes the snapshot")
    parser.add_argument("--no-fetch", action="store_true",
                        help="fetch no extra files with pip (micropip's wheel)")
    args = parser.parse_args(argv)
    report = build(VENDOR, snapshot=not args.no_snapshot, chromium=args.chromium,
                   extras=not args.no_fetch, app_root=REPO_ROOT)
    return 1 if "patch_error" in report else 0



def assets_doc() -> str | None:
    from . import assets

    return assets.__doc__
