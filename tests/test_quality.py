"""The checks of ``scripts/check`` as tests, so CI enforces them: ruff and mypy (strict)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=300, check=False)


def test_ruff_is_clean():
    result = _run("ruff", "check", "app", "server", "tests", "serve.py", "config", "benchmarks")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean():
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
