"""JSON log lines for log shippers: one object per line, ``[logging] json = true`` or
``serve.py --log-json``.

Each line is ``{"time", "level", "logger", "message"}``, plus for uvicorn's access log
``client``, ``method``, ``path``, ``status``, and ``exc_type`` when a record carries an exception
(its traceback as ``exc``). Nothing secret: the access log's paths have no query string already
(``server.asgi.DropQueryStrings``), and ``redact`` masks anything shaped like a bearer token,
a JWT or a ``password``/``token``/``key`` value that a message might quote.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

_JWT = re.compile(r"\beyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[\w.~+/=-]+")
_ASSIGNED = re.compile(r"(?i)\b(password|token|secret|api_?key|apiKey|key)(\"?\s*[=:]\s*\"?)"
                       r"[^\s\"&,;]+")
MASK = "[redacted]"


def redact(text: str) -> str:
    """``text`` with tokens, JWTs and secret-looking assignments masked."""
    text = _JWT.sub(MASK, text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    return _ASSIGNED.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON object on one line."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) >= 5:
            client, method, path, _version, status = args[:5]
            out.update(client=str(client), method=str(method), path=redact(str(path)),
                       status=int(str(status)) if str(status).isdigit() else str(status))
            out["message"] = f"{method} {out['path']} {status}"
        else:
            out["message"] = redact(record.getMessage())
        if record.exc_info and record.exc_info[0] is not None:
            out["exc_type"] = record.exc_info[0].__name__
            out["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False)


def log_config(level: str = "info") -> dict[str, Any]:
    """uvicorn's ``log_config`` with every line as JSON, on stderr (access lines on stdout)."""
    formatter = {"()": f"{__name__}.JsonFormatter"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": formatter},
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "json",
                        "stream": "ext://sys.stderr"},
            "access": {"class": "server.observability.batched_log.BatchedStreamHandler",
                       "formatter": "json", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"level": level.upper()},
            "uvicorn.access": {"handlers": ["access"], "level": level.upper(),
                               "propagate": False},
            "latchkey": {"handlers": ["default"], "level": "INFO", "propagate": False},
        },
    }
