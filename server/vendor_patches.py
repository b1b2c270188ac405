"""Patches we carry for the vendored runtimes, applied to copies (never to ``node_modules``).

Why: PyScript 0.7.31 evaluates a string as JavaScript (``Function(...)``) while it starts, even on
a page without workers, so a page running it needed ``'unsafe-eval'`` in its
Content-Security-Policy. The string is the worker hooks glued into one function, made so that it
can be sent to a worker as text (``src/hooks.js``, ``createFunction``); polyscript's ``Hook``
(``esm/worker/hook.js``) reads those getters as soon as an interpreter starts on the main thread.
The patch makes ``Hook`` read them when a worker actually asks for them, so a page without
workers never evaluates a string (a page that starts a PyScript worker still needs
``'unsafe-eval'``, as PyScript documents).

Python pages of other sites list our SDK's wheel in their ``pyscript.toml`` ``packages``, which
PyScript installs with micropip. npm's ``pyodide`` has no wheels, so setup fetches micropip's (the
version Pyodide's lock names) from PyPI with pip, and the lock is patched to that wheel's sha256
(Pyodide's own copy, on its CDN, has another); it is served beside Pyodide (``EXTRA_FILES``).

Rules that must hold:

1. A patch is a list of exact ``(old, new)`` replacements for one file of one pinned version;
   each ``old`` must occur exactly once, or the patch is refused with a message naming the file
   (a new PyScript release needs the patch redone, never a silently unpatched page).
2. The patched copy goes to ``<cache>/patched/<package>/<path>`` stamped with the source's
   mtime, and ``server.assets`` serves it in place of the original only while the stamp matches
   (so ``npm ci`` of another version falls back to the original file, not a stale copy).
3. An extra file is served only when its sha256 is the one listed here (checked when fetched);
   without it (no network at setup), ``packages`` in a Python page fail, nothing else does.
4. A repacked copy (``REPACKS``) holds exactly the files of the original, under the same names,
   only stored differently; it is made at setup (not when the server starts: it takes a moment)
   and served like a patched copy (rule 2). Pyodide's ``python_stdlib.zip`` deflates each module
   on its own (2.5 MB); stored without compression, the brotli copy of the whole archive is 1.8
   MB, and Python reads the modules without inflating them.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

PATCHED = "patched"

#: ``{(package, path in the package's served directory): [(old, new), ...]}``.
PATCHES: dict[tuple[str, str], list[tuple[str, str]]] = {
    ("pyscript", "core-C9KDLldu.js"): [
        # polyscript's Hook constructor: ``for (const key of jsHooks.slice(1)) this[key] =
        # worker?.[key];`` becomes a lazy getter per key, so the worker hooks (and their
        # ``Function(...)``) are built only when a worker is created and serialises them.
        (
            "for(const e of ns.slice(1))this[e]=r?.[e];",
            "for(const e of ns.slice(1))Object.defineProperty(this,e,{configurable:!0,"
            "enumerable:!0,get:()=>r?.[e],set(v){Object.defineProperty(this,e,{value:v,"
            "writable:!0,enumerable:!0,configurable:!0})}});",
        ),
    ],
    ("pyodide", "pyodide-lock.json"): [
        ('"sha256": "e2d52886594fd4cd0d0847110a1c34ae0134d3a970eb4496d3b5eb31ee2d8af6"',
         '"sha256": "768de165adb8e66906039d8fec4127a57f522dfdf8e6fbff877a4616941ecfd3"'),
    ],
}


def stored_zip(data: bytes) -> bytes:
    """The zip archive ``data`` with every member stored uncompressed, in the same order and
    under the same names (rule 4)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, info.date_time)
            entry.external_attr = info.external_attr
            target.writestr(entry, source.read(info), compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


#: ``{(package, path in the package's served directory): transform}``: copies of rule 4.
REPACKS: dict[tuple[str, str], Callable[[bytes], bytes]] = {
    ("pyodide", "python_stdlib.zip"): stored_zip,
}
EXTRA = "extra"
#: ``{(package, file name): (pip requirement, sha256)}``: wheels served beside the package.
EXTRA_FILES: dict[tuple[str, str], tuple[str, str]] = {
    ("pyodide", "micropip-0.11.1-py3-none-any.whl"): (
        "micropip==0.11.1", "768de165adb8e66906039d8fec4127a57f522dfdf8e6fbff877a4616941ecfd3"),
}


class PatchError(Exception):
    """A carried patch no longer fits the vendored file (rule 1)."""


def patched_text(text: str, replacements: list[tuple[str, str]], name: str) -> str:
    """``text`` with every replacement applied once (rule 1)."""
    for old, new in replacements:
        count = text.count(old)
        if count != 1:
            raise PatchError(
                f"{name}: the carried patch expects {old[:60]!r}… once, found it {count} "
                "times; the vendored version changed (see server/vendor_patches.py)")
        text = text.replace(old, new)
    return text


def patched_path(cache_dir: Path, package: str, relative: str) -> Path:
    """Where the patched copy of ``relative`` in ``package`` lives (rule 2)."""
    return cache_dir / PATCHED / package / relative


def apply_patches(vendor: dict[str, Path], cache_dir: Path) -> int:
    """Write the missing or stale patched copies; how many were written."""
    made = 0
    for (package, relative), replacements in PATCHES.items():
        directory = next((d for p, d in vendor.items() if p.rsplit("/", 1)[-1] == package), None)
        if directory is None:
            continue
        source = directory / relative
        try:
            stat = source.stat()
        except OSError:
            continue  # Not installed (no npm ci yet): nothing to patch, nothing served.
        target = patched_path(cache_dir, package, relative)
        try:
            if target.stat().st_mtime_ns == stat.st_mtime_ns:
                continue
        except OSError:
            pass
        text = patched_text(source.read_text(encoding="utf-8"), replacements,
                            f"{package}/{relative}")
        write_like(target, text.encode("utf-8"), stat)
        made += 1
    return made


def write_like(target: Path, data: bytes, source: os.stat_result) -> None:
    """Write ``data`` to ``target`` at once (through a ``.part`` file), with the source's times:
    a derived copy is up to date while its mtime equals its source's."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    partial.write_bytes(data)
    os.utime(partial, ns=(source.st_atime_ns, source.st_mtime_ns))
    partial.replace(target)


def apply_repacks(vendor: dict[str, Path], cache_dir: Path) -> int:
    """Write the missing or stale repacked copies (rule 4); how many were written."""
    made = 0
    for (package, relative), transform in REPACKS.items():
        directory = next((d for p, d in vendor.items() if p.rsplit("/", 1)[-1] == package), None)
        source = directory / relative if directory is not None else None
        if source is None or not source.is_file():
            continue
        stat = source.stat()
        target = patched_path(cache_dir, package, relative)
        try:
            if target.stat().st_mtime_ns == stat.st_mtime_ns:
                continue
        except OSError:
            pass
        try:
            data = transform(source.read_bytes())
        except (OSError, ValueError, zipfile.BadZipFile):
            continue  # Not the archive it should be: the original is served as it is.
        write_like(target, data, stat)
        made += 1
    return made


def patched_file(cache_dir: Path, package: str, relative: str,
                 source: os.stat_result) -> Path | None:
    """The patched (or repacked) copy to serve for ``relative`` of ``package``, if it is
    current (rules 2 and 4)."""
    if (package, relative) not in PATCHES and (package, relative) not in REPACKS:
        return None
    target = patched_path(cache_dir, package, relative)
    try:
        if target.stat().st_mtime_ns == source.st_mtime_ns:
            return target
    except OSError:
        pass
    return None


def extra_path(cache_dir: Path, package: str, name: str) -> Path:
    """Where the extra file ``name`` beside ``package`` is kept (rule 3)."""
    return cache_dir / EXTRA / package / name


def extra_file(cache_dir: Path, package: str, name: str) -> Path | None:
    """The extra file to serve as ``name`` of ``package``, if there is one."""
    if (package, name) not in EXTRA_FILES:
        return None
    path = extra_path(cache_dir, package, name)
    return path if path.is_file() else None


def fetch_extra_files(cache_dir: Path, say: Callable[[str], None] = print) -> int:
    """Download the missing extra files with pip and check their sha256; how many were added."""
    made = 0
    for (package, name), (requirement, sha256) in EXTRA_FILES.items():
        target = extra_path(cache_dir, package, name)
        if target.is_file():
            continue
        with tempfile.TemporaryDirectory(prefix="latchkey-extra-") as tmp:
            command = [sys.executable, "-m", "pip", "download", "-q", "--disable-pip-version-check",
                       "--no-deps", "--only-binary=:all:", "--python-version", "3.14",
                       "-d", tmp, requirement]
            try:
                subprocess.run(command, check=True, capture_output=True, timeout=120)
                data = (Path(tmp) / name).read_bytes()
            except (OSError, subprocess.SubprocessError) as exc:
                say(f"could not fetch {name} ({exc.__class__.__name__}); Python pages of other "
                    "sites cannot install packages from this server")
                continue
        if hashlib.sha256(data).hexdigest() != sha256:
            say(f"{name} from PyPI does not have the expected sha256; not served")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        partial.write_bytes(data)
        partial.replace(target)
        made += 1
    return made
