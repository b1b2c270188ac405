"""``/embed/bundle.json`` (``server/embed_bundle.py``): the embed's Python, its precompiled
modules, compressed."""

from __future__ import annotations

import base64
import json
from base64 import b64encode

from starlette.applications import Starlette
from starlette.testclient import TestClient

from server import app_bytecode, embed_bundle

FILES = ["app/__init__.py", "app/embed.py", "app/sdk/__init__.py"]


def _repo(tmp_path):
    root = tmp_path / "repo"
    (root / "app" / "sdk").mkdir(parents=True)
    for rel in FILES:
        (root / rel).write_text(f"# {rel}\n" * 200)
    return root


def test_pyc_only_for_the_modules_the_snapshot_does_not_import(tmp_path) -> None:
    root = _repo(tmp_path)
    sources = {rel: (root / rel).read_bytes() for rel in FILES}
    result = json.dumps({f"/r/{rel}": [rel.rsplit("/", 1)[-1].replace(".py", ".cpython-314.pyc"),
                                       b64encode(b"pyc:" + data).decode()]
                         for rel, data in sources.items()})
    app_bytecode.store(tmp_path / "cache", "tag", sources, result, "/r")
    body = json.loads(embed_bundle.bundle_body(root, FILES, tmp_path / "cache", "tag"))
    assert {k for k in body if not k.endswith(".pyc")} == set(FILES)
    assert body["app/embed.py"] == (root / "app/embed.py").read_text()
    # app.embed is not in the snapshot; app and app.sdk are (their .pyc would go unused).
    assert [k for k in body if k.endswith(".pyc")] == ["app/__pycache__/embed.cpython-314.pyc"]
    assert base64.b64decode(body["app/__pycache__/embed.cpython-314.pyc"]) == (
        b"pyc:" + sources["app/embed.py"])
    # No build (no Pyodide): sources only.
    assert not any(k.endswith(".pyc")
                   for k in json.loads(embed_bundle.bundle_body(root, FILES, tmp_path, None)))


def test_the_bundle_is_public_compressed_and_revalidated(tmp_path) -> None:
    root = _repo(tmp_path)
    client = TestClient(Starlette(routes=embed_bundle.bundle_routes(root, FILES)))
    plain = client.get(embed_bundle.URL, headers={"accept-encoding": "identity"})
    assert plain.headers["access-control-allow-origin"] == "*"
    assert plain.headers["cache-control"] == "no-cache"
    assert "content-encoding" not in plain.headers
    packed = client.get(embed_bundle.URL, headers={"accept-encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.num_bytes_downloaded < len(plain.content) / 3
    assert packed.json() == plain.json()
    again = client.get(embed_bundle.URL, headers={"accept-encoding": "gzip",
                                                  "if-none-match": packed.headers["etag"]})
    assert again.status_code == 304
    (root / "app/embed.py").write_text("# edited\n")
    assert client.get(embed_bundle.URL).json()["app/embed.py"] == "# edited\n"
