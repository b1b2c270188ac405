"""Lines for the operator's console: plain text, or JSON log lines when logs are JSON.

``serve.py`` prints a few lines of its own (where it serves, the open-files limit, an export's
summary, the warning about links on a wildcard address) and the mailer one line per mail
without a mail server. With ``--log-json`` (or ``[logging] json = true``) a log shipper reads
stdout and stderr as one JSON object per line, so these go through the ``latchkey`` logger
instead, formatted by ``jsonlog.JsonFormatter``. Whether logs are JSON is read from that
logger's handlers, so it holds in every worker process, which uvicorn configures from the same
``log_config``; without JSON logging the lines are printed exactly as before.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from .jsonlog import JsonFormatter

__all__ = ["json_logging", "say"]

log = logging.getLogger("latchkey.server")


def json_logging() -> bool:
    """Whether the ``latchkey`` logger writes JSON lines."""
    return any(isinstance(h.formatter, JsonFormatter)
               for h in logging.getLogger("latchkey").handlers)


def say(text: str, *, stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Print ``text`` (on ``stream``, default stdout), or log it as one JSON line."""
    if json_logging():
        log.log(level, "%s", text)
    else:
        print(text, file=stream or sys.stdout, flush=True)
