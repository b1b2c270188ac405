"""uvicorn's own log lines, plus Latchkey's loggers (``latchkey.*``), when logs are not JSON.

Without a handler, Python drops INFO records of ``latchkey.functions`` (a JavaScript
``console.log``, one line per call), ``latchkey.audit`` and ``latchkey.server``: only warnings
reached the console, through logging's last-resort handler. ``--log-json`` configured the
``latchkey`` logger already (``jsonlog``); this does the same in uvicorn's plain format
(``INFO:     function add: adding 2 and 3``). Found in review.
"""

from __future__ import annotations

import copy
from typing import Any

from . import batched_log

#: The access log's handler (``batched_log``): flushed by a timer, not by every request.
BATCHED = f"{batched_log.__name__}.BatchedStreamHandler"


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's default ``log_config`` with a ``latchkey`` logger on its default handler."""
    from uvicorn.config import LOGGING_CONFIG

    config: dict[str, Any] = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["latchkey"] = {"handlers": ["default"], "level": level.upper(),
                                     "propagate": False}
    config["handlers"]["access"]["class"] = BATCHED
    return config
