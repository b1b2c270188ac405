"""What a plain ``scripts/run`` installs (the ``server`` extra) runs the code the tests run."""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def _extra(name: str) -> list[str]:
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    return [str(req).split(">")[0].split("[")[0].strip().lower() for req in extras[name]]


def test_server_extra_has_httpx2_for_authlib() -> None:
    # Without httpx2, authlib's httpx client (the social code exchange) falls back to httpx and
    # every serve.py start and admin command prints an AuthlibDeprecationWarning; the test
    # extra has httpx2, so the suite would never see that path.
    assert "authlib" in _extra("server")
    assert "httpx2" in _extra("server")
