"""The pages' Python precompiled: ``.pyc`` files made at setup by Pyodide itself, in ``/app.zip``.

Compiling the page's modules from source took about a third of their import time at every
start (0.15 s of 0.23 s on a cold visit here). Setup (``server.asset_setup``) has the browser
that makes the snapshot compile every file of ``/app.zip`` too (``server.snapshot``), and
``server.app_archive`` puts each ``.pyc`` beside its source, where Python's import finds it.

Rules that must hold:

1. A ``.pyc`` is made by the Pyodide build that runs it (its Python's magic number and cache
   tag), in PEP 552's checked-hash form: at every import Python compares the source's hash with
   the one in the ``.pyc`` and compiles the source instead when they differ. A ``.pyc`` can be
   useless, never wrong; one of another Python is skipped the same way.
2. Kept as ``<cache>/bytecode/<build tag>/<sha256 of the source>/<pyc name>``: the archive adds
   a ``.pyc`` only for a source whose bytes are exactly those it was made from, so an edited
   module is served without its stale ``.pyc`` (and compiled in the browser, as before setup).
3. Setup remakes them when a file of the archive has none (an edit since the last setup); only
   the current files' ``.pyc`` are kept.
4. PyScript's own package (``pyscript/*.py``, which PyScript writes from its bundle and imports
   at every start) gets its ``.pyc`` the same way: read from the bundle as PyScript writes it,
   compiled at setup, in ``/app.zip`` under ``pyscript/__pycache__/`` (unpacked before PyScript
   writes the sources beside them). A bundle this cannot read just has none.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from pathlib import Path

BYTECODE = "bytecode"

#: Run by Pyodide in the setup page (``server.snapshot``): ``SOURCES`` is ``{path in Pyodide's
#: file system: base64 of the file}``; the result, ``{path: [pyc file name, base64 of it]}``.
#: ``compile`` is called as ``importlib``'s ``SourceLoader.source_to_code`` calls it.
COMPILE = """
import base64, importlib.util, json
from importlib._bootstrap_external import _code_to_hash_pyc
_out = {}
for _path, _text in SOURCES.items():
    _data = base64.b64decode(_text)
    _code = compile(_data, _path, "exec", dont_inherit=True, optimize=-1)
    _pyc = _code_to_hash_pyc(_code, importlib.util.source_hash(_data), True)
    _name = importlib.util.cache_from_source(_path).rsplit("/", 1)[1]
    _out[_path] = [_name, base64.b64encode(_pyc).decode()]
json.dumps(_out)
"""


def compile_script(sources: dict[str, bytes], root: str) -> str:
    """The Python that compiles ``sources`` (``{repo-relative path: bytes}``) as the files
    ``<root>/<path>`` in Pyodide; it evaluates to the JSON that ``store`` takes."""
    encoded = {f"{root}/{rel}": base64.b64encode(data).decode() for rel, data in sources.items()}
    return f"SOURCES = {json.dumps(encoded)}\n{COMPILE}"


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store(cache_dir: Path, tag: str, sources: dict[str, bytes], result: str, root: str) -> int:
    """Keep the ``.pyc`` of ``result`` (``compile_script``'s JSON) for ``sources``; drop the
    others of this build (rule 3). How many were kept."""
    compiled = json.loads(result)
    directory = cache_dir / BYTECODE / tag
    keep: set[str] = set()
    for rel, data in sources.items():
        if f"{root}/{rel}" not in compiled:
            continue
        name, pyc = compiled[f"{root}/{rel}"]
        if "/" in name or not name.endswith(".pyc"):
            raise ValueError(f"unexpected .pyc name {name!r}")
        digest = _digest(data)
        target = directory / digest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(base64.b64decode(pyc))
        keep.add(digest)
    for old in directory.iterdir():
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    return len(keep)


def lookup(cache_dir: Path, tag: str | None, rel: str, data: bytes) -> tuple[str, bytes] | None:
    """``(archive path, bytes)`` of the ``.pyc`` made from exactly ``data``, the file ``rel``
    (rule 2), or ``None``."""
    if tag is None:
        return None
    found = cache_dir / BYTECODE / tag / _digest(data)
    try:
        pyc = next(found.iterdir())
    except (OSError, StopIteration):
        return None
    directory = rel.rsplit("/", 1)[0] if "/" in rel else ""
    return f"{directory}/__pycache__/{pyc.name}".lstrip("/"), pyc.read_bytes()


def missing(cache_dir: Path, tag: str, sources: dict[str, bytes]) -> bool:
    """Whether a file of ``sources`` has no ``.pyc`` (rule 3)."""
    return any(lookup(cache_dir, tag, rel, data) is None for rel, data in sources.items())


def version(cache_dir: Path, tag: str | None) -> int:
    """Changes when setup stores new ``.pyc`` files (the archive is made again)."""
    try:
        return (cache_dir / BYTECODE / (tag or "-")).stat().st_mtime_ns
    except OSError:
        return 0


# PyScript's own Python package --------------------------------------------------------------

#: How PyScript's bundle holds its Python package: an object literal of file texts, which it
#: writes to ``./pyscript/`` at every start (rule 4).
PYSCRIPT_MARKER = '{pyscript:{"__init__.py":'
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "'": "'", "\\": "\\", "/": "/",
            "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _js_string(text: str, at: int) -> tuple[str, int]:
    # The double-quoted JavaScript string literal at ``at``: its value, and the index after it.
    out: list[str] = []
    at += 1
    while text[at] != '"':
        char = text[at]
        if char == "\\":
            code = text[at + 1]
            if code == "x":
                out.append(chr(int(text[at + 2:at + 4], 16)))
                at += 4
            elif code == "u":
                out.append(chr(int(text[at + 2:at + 6], 16)))
                at += 6
            elif code in _ESCAPES:
                out.append(_ESCAPES[code])
                at += 2
            else:
                raise ValueError(f"unknown escape \\{code}")
        else:
            out.append(char)
            at += 1
    return "".join(out), at + 1


def _js_files(text: str, at: int, prefix: str, found: dict[str, bytes]) -> int:
    # The object literal at ``at`` ({name: "text" or {...}, ...}) into ``found``.
    if text[at] != "{":
        raise ValueError("expected an object")
    at += 1
    while text[at] != "}":
        if text[at] == '"':
            name, at = _js_string(text, at)
        else:
            end = text.index(":", at)
            name, at = text[at:end], end
        if text[at] != ":":
            raise ValueError("expected ':'")
        at += 1
        if text[at] == '"':
            value, at = _js_string(text, at)
            found[prefix + name] = value.encode("utf-8")
        else:
            at = _js_files(text, at, f"{prefix}{name}/", found)
        if text[at] == ",":
            at += 1
    return at + 1


def pyscript_sources(dist: Path) -> dict[str, bytes]:
    """``{"pyscript/...": bytes}``: the files PyScript (its bundle in ``dist``) writes to
    ``./pyscript/`` at every start, as it writes them (UTF-8 text); ``{}`` when no bundle of
    ``dist`` holds them the way this reads them (rule 4)."""
    for path in sorted(dist.glob("*.js")):
        text = path.read_text(encoding="utf-8")
        at = text.find(PYSCRIPT_MARKER)
        if at < 0:
            continue
        found: dict[str, bytes] = {}
        try:
            _js_files(text, at, "", found)
        except (ValueError, IndexError):
            return {}
        return {rel: data for rel, data in found.items() if rel.endswith(".py")}
    return {}
