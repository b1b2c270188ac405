"""Precompiled bytecode in ``/app.zip`` (``server/app_bytecode.py``) and the stored standard
library zip (``server/vendor_patches.py`` rule 4). The ``.pyc`` themselves are made by Pyodide
at setup; here, what is kept and what goes into the archive."""

from __future__ import annotations

import io
import json
import zipfile
from base64 import b64encode
from pathlib import Path

import pytest

from server import app_archive, app_bytecode, assets, vendor_patches

ROOT = "/home/pyodide"


def _result(sources: dict[str, bytes]) -> str:
    # What the setup page posts back: a .pyc per file (here, bytes that name their source).
    return json.dumps({f"{ROOT}/{rel}": [Path(rel).stem + ".cpython-314.pyc",
                                         b64encode(b"pyc of " + data).decode()]
                       for rel, data in sources.items()})


def test_a_pyc_is_found_only_for_the_bytes_it_was_made_from(tmp_path) -> None:
    sources = {"app/__init__.py": b"", "app/ui.py": b"print('ui')\n"}
    assert app_bytecode.missing(tmp_path, "tag", sources)
    assert app_bytecode.store(tmp_path, "tag", sources, _result(sources), ROOT) == 2
    assert not app_bytecode.missing(tmp_path, "tag", sources)
    assert app_bytecode.lookup(tmp_path, "tag", "app/ui.py", b"print('ui')\n") == (
        "app/__pycache__/ui.cpython-314.pyc", b"pyc of print('ui')\n")
    # An edited file, another Pyodide build, no build at all: no .pyc.
    assert app_bytecode.lookup(tmp_path, "tag", "app/ui.py", b"print('edited')\n") is None
    assert app_bytecode.lookup(tmp_path, "other", "app/ui.py", b"print('ui')\n") is None
    assert app_bytecode.lookup(tmp_path, None, "app/ui.py", b"print('ui')\n") is None
    assert app_bytecode.missing(tmp_path, "tag", {**sources, "app/ui.py": b"print('edited')\n"})


def test_storing_again_keeps_only_the_current_files(tmp_path) -> None:
    old = {"app/ui.py": b"old\n"}
    app_bytecode.store(tmp_path, "tag", old, _result(old), ROOT)
    new = {"app/ui.py": b"new\n"}
    app_bytecode.store(tmp_path, "tag", new, _result(new), ROOT)
    assert app_bytecode.lookup(tmp_path, "tag", "app/ui.py", b"old\n") is None
    assert app_bytecode.lookup(tmp_path, "tag", "app/ui.py", b"new\n") is not None
    assert len(list((tmp_path / app_bytecode.BYTECODE / "tag").iterdir())) == 1


def test_a_pyc_name_with_a_path_is_refused(tmp_path) -> None:
    sources = {"app/ui.py": b"x = 1\n"}
    bad = json.dumps({f"{ROOT}/app/ui.py": ["../../evil.pyc", b64encode(b"x").decode()]})
    with pytest.raises(ValueError, match="unexpected"):
        app_bytecode.store(tmp_path, "tag", sources, bad, ROOT)


def test_the_compile_script_names_every_file_where_pyodide_has_it() -> None:
    script = app_bytecode.compile_script({"app/ui.py": b"x = 1\n"}, ROOT)
    assert f'"{ROOT}/app/ui.py"' in script and "_code_to_hash_pyc" in script
    # It runs under CPython too (the same importlib), making checked-hash .pyc files.
    namespace: dict[str, object] = {}
    exec(script.rsplit("\n", 2)[0], namespace)  # All but the final expression.
    exec("_result = json.dumps(_out)", namespace)
    (name, pyc), = json.loads(str(namespace["_result"])).values()
    assert name.startswith("ui.") and name.endswith(".pyc")
    flags = int.from_bytes(__import__("base64").b64decode(pyc)[4:8], "little")
    assert flags == 0b11  # Hash-based and checked (PEP 552).


def test_the_archive_adds_each_current_pyc_beside_its_source(tmp_path) -> None:
    tag = assets.build_tag()
    if tag is None:
        pytest.skip("Pyodide is not installed (npm ci)")
    root, cache = tmp_path / "repo", tmp_path / "cache"
    (root / "app" / "sdk").mkdir(parents=True)
    (root / "app" / "__init__.py").write_bytes(b"")
    (root / "app" / "sdk" / "app.py").write_bytes(b"class App: ...\n")
    sources = {"app/__init__.py": b"", "app/sdk/app.py": b"class App: ...\n"}
    app_bytecode.store(cache, tag, sources, _result(sources), ROOT)
    (root / "app" / "__init__.py").write_bytes(b"# edited since setup\n")
    with zipfile.ZipFile(io.BytesIO(app_archive.build_archive(root, cache))) as archive:
        assert archive.namelist() == ["app/__init__.py", "app/sdk/app.py",
                                      "app/sdk/__pycache__/app.cpython-314.pyc"]
        assert archive.read("app/sdk/__pycache__/app.cpython-314.pyc") == (
            b"pyc of class App: ...\n")


def test_the_stored_stdlib_zip_holds_the_same_files(tmp_path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as source:
        source.writestr("json/__init__.py", "import json.decoder\n" * 50)
        source.writestr("os.py", "import sys\n" * 50)
    repacked = vendor_patches.stored_zip(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(repacked)) as archive:
        assert archive.namelist() == ["json/__init__.py", "os.py"]
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
        assert archive.read("os.py") == b"import sys\n" * 50
    pyodide = tmp_path / "pyodide"
    pyodide.mkdir()
    (pyodide / "python_stdlib.zip").write_bytes(buffer.getvalue())
    vendor = {"/vendor/pyodide": pyodide}
    assert vendor_patches.apply_repacks(vendor, tmp_path / "cache") == 1
    assert vendor_patches.apply_repacks(vendor, tmp_path / "cache") == 0  # Up to date.
    served = vendor_patches.patched_file(tmp_path / "cache", "pyodide", "python_stdlib.zip",
                                         (pyodide / "python_stdlib.zip").stat())
    assert served is not None and served.read_bytes() == repacked


def test_pyscript_package_is_read_from_its_bundle(tmp_path) -> None:
    bundle = ('let a=1;wo(".",{pyscript:{"__init__.py":"import js\\nx=\\"\\\\u00e9\\"\\t#\\x41",'
              '"sub":{"mod.py":"y=2\\n"},"README.txt":"no"}}),b=2;')
    (tmp_path / "other.js").write_text("nothing here")
    (tmp_path / "core-x.js").write_text(bundle)
    assert app_bytecode.pyscript_sources(tmp_path) == {
        "pyscript/__init__.py": b'import js\nx="\\u00e9"\t#A',
        "pyscript/sub/mod.py": b"y=2\n",
    }
    (tmp_path / "core-x.js").write_text(bundle.replace('"sub":{', '"sub":['))
    assert app_bytecode.pyscript_sources(tmp_path) == {}  # Not readable: no .pyc, no error.


def test_the_installed_pyscript_package_is_found() -> None:
    from server.app_archive import pyscript_dist

    if not pyscript_dist().is_dir():
        pytest.skip("PyScript is not installed (npm ci)")
    sources = app_bytecode.pyscript_sources(pyscript_dist())
    assert "pyscript/__init__.py" in sources and "pyscript/web.py" in sources
    for rel, data in sources.items():
        compile(data, rel, "exec")  # Python, read whole.
