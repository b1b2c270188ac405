"""The SDK's wheel (``server/sdk_wheel.py``): a valid, deterministic wheel of ``app/sdk`` as the
package ``latchkey``, served publicly and revalidated."""

from __future__ import annotations

import base64
import hashlib
import io
import subprocess
import sys
import zipfile
from pathlib import Path

from server import sdk_wheel


def test_the_wheel_is_the_sdk_as_latchkey_and_its_record_is_true() -> None:
    data = sdk_wheel.build_wheel()
    assert data == sdk_wheel.build_wheel()  # Deterministic.
    wheel = zipfile.ZipFile(io.BytesIO(data))
    names = set(wheel.namelist())
    sdk = Path(sdk_wheel.REPO_ROOT) / "app" / "sdk"
    for source in sdk.rglob("*.py"):
        if "__pycache__" not in source.parts:
            assert "latchkey/" + source.relative_to(sdk).as_posix() in names
    info = f"latchkey-{sdk_wheel.version()}.dist-info"
    assert {f"{info}/METADATA", f"{info}/WHEEL", f"{info}/RECORD"} <= names
    for line in wheel.read(f"{info}/RECORD").decode().splitlines():
        name, digest, size = line.split(",")
        if name.endswith("RECORD"):
            continue
        content = wheel.read(name)
        expected = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=")
        assert digest == "sha256=" + expected.decode() and int(size) == len(content)


def test_pip_installs_it_and_the_sdk_imports_as_latchkey(tmp_path: Path) -> None:
    wheel = tmp_path / sdk_wheel.wheel_name()
    wheel.write_bytes(sdk_wheel.build_wheel())
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "--target", str(target), str(wheel)],
                   check=True)
    code = ("import latchkey, latchkey.adapters.native as n; "
            "print(latchkey.__file__, latchkey.App.__name__, n.make_app.__name__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, text=True,
                         capture_output=True, env={"PYTHONPATH": str(target)}).stdout
    assert out.split() == [str(target / "latchkey" / "__init__.py"), "App", "make_app"]


def test_served_public_and_revalidated(client) -> None:
    path = f"/sdk/{sdk_wheel.wheel_name()}"
    response = client.get(path)
    assert response.status_code == 200
    assert response.content == sdk_wheel.build_wheel()
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["cache-control"] == "no-cache"
    again = client.get(path, headers={"if-none-match": response.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/sdk/latchkey-0.0.0-py3-none-any.whl").status_code == 404
