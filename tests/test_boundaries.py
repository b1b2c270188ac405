"""Import rules that keep the layers apart (STYLE rules 1, 6 and 10), checked on the source.

1. The SDK core (``app/sdk`` outside ``adapters``) imports only the standard library and itself.
2. Only ``app/sdk/adapters/browser.py`` imports ``js``/``pyodide``/``pyscript``; no SDK module
   imports ``httpx``, ``server`` or anything outside the standard library.
3. ``routes.py`` and ``errors.py`` (the wire contract the server imports) depend on nothing else
   in the SDK at run time.
4. The server's HTTP layer (``server/routes``) reaches storage only through the services.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SDK = ROOT / "app" / "sdk"
BROWSER_ONLY = {"js", "pyodide", "pyscript"}


def imports(path: Path, *, runtime_only: bool = False) -> Iterator[str]:
    """Absolute module names imported by a file (relative ones resolved against ``app.sdk``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    if runtime_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skip.update(id(n) for n in ast.walk(node))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield _absolute(node, package)


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.split(".")[: len(package.split(".")) - node.level + 1]
    return ".".join([*base, node.module] if node.module else base)


def top(name: str) -> str:
    return name.split(".")[0]


def sdk_files() -> list[Path]:
    return sorted(SDK.rglob("*.py"))


def test_the_sdk_imports_only_the_standard_library_and_itself() -> None:
    for path in sdk_files():
        for name in imports(path):
            if path.name == "browser.py" and top(name) in BROWSER_ONLY:
                continue
            assert top(name) in sys.stdlib_module_names or name.startswith("app.sdk"), (
                f"{path.relative_to(ROOT)} imports {name}"
            )


def test_only_the_browser_adapter_touches_js_or_pyodide() -> None:
    users = {
        path.relative_to(SDK).as_posix()
        for path in sdk_files()
        if any(top(name) in BROWSER_ONLY for name in imports(path))
    }
    assert users == {"adapters/browser.py"}


def test_the_core_does_not_import_the_adapters() -> None:
    for path in sdk_files():
        if "adapters" in path.parts:
            continue
        for name in imports(path):
            assert not name.startswith("app.sdk.adapters"), f"{path.name} imports {name}"


def test_the_wire_contract_modules_stand_alone() -> None:
    for module in ("routes.py", "errors.py"):
        internal = [n for n in imports(SDK / module, runtime_only=True) if n.startswith("app.")]
        assert internal == [], f"{module} imports {internal}"


def test_server_routes_reach_the_store_only_through_services() -> None:
    routes = sorted((ROOT / "server" / "routes").glob("*.py"))
    assert routes, "the server's routes package is missing"
    for path in routes:
        for name in imports(path):
            assert not name.startswith("server.store"), f"{path.name} imports {name}"


_EACH_ALONE = """
import importlib, pkgutil, sys, traceback
import prometheus_client
import server
registry = prometheus_client.REGISTRY
names = [m.name for m in pkgutil.walk_packages(server.__path__, "server.")]
failed = []
for name in names:
    for loaded in [m for m in sys.modules if m == "server" or m.startswith("server.")]:
        del sys.modules[loaded]
    for collector in list(registry._collector_to_names):  # Our metrics register on import.
        registry.unregister(collector)
    try:
        importlib.import_module(name)
    except Exception:
        failed.append(name + ": " + traceback.format_exc().strip().splitlines()[-1])
print(len(names))
print("\\n".join(failed))
"""


def test_every_server_module_imports_first() -> None:
    # server/__init__ imports lazily, so a command imports only what it needs; a module that
    # worked only because something else was imported before it (an import cycle through
    # server.routes) broke `serve.py admin-keys` once. Each module is imported first here.
    import subprocess

    done = subprocess.run([sys.executable, "-c", _EACH_ALONE], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    count, *failed = done.stdout.strip().splitlines()
    assert int(count) > 100 and [f for f in failed if f] == []
