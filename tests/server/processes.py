"""Watching processes a test expects to end (function workers and what functions started)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def alive(pid: int) -> bool:
    """Whether the process runs; a zombie is dead too (it only waits for its parent)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rpartition(")")[2].split()[0] != "Z"


def gone_within(pid: int, seconds: float) -> bool:
    """Whether the process ends within ``seconds``; one still running then is killed, so a
    failing test leaves nothing behind."""
    deadline = time.monotonic() + seconds
    while alive(pid):
        if time.monotonic() > deadline:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
            return False
        time.sleep(0.05)
    return True
