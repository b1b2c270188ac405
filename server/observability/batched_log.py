"""The access log's handler: lines written as they come, flushed a few times a second.

``logging.StreamHandler`` writes and flushes its stream at every record, so each request's access
line was one ``write`` system call of its own (always with ``PYTHONUNBUFFERED``, as in most
containers): on this project's 2-core machine a few percent of a request's CPU.
``BatchedStreamHandler`` keeps the lines and a daemon thread writes them in one block every
``FLUSH_SECONDS`` (or at ``MAX_PENDING`` lines, and at ``logging.shutdown``). A process killed
with ``kill -9`` loses at most the last ``FLUSH_SECONDS`` of access lines; Latchkey's own lines
(warnings, the audit log, function output) keep the plain handler and are written at once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

__all__ = ["FLUSH_SECONDS", "MAX_PENDING", "BatchedStreamHandler"]

#: How long an access line may wait.
FLUSH_SECONDS = 0.2
#: Lines kept at most before they are written.
MAX_PENDING = 512


class BatchedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A ``StreamHandler`` whose stream is flushed by a timer, not after each record."""

    def __init__(self, stream: Any = None, interval: float = FLUSH_SECONDS) -> None:
        super().__init__(stream)
        self.interval = interval
        self._pending: list[str] = []
        self._flusher: threading.Thread | None = None
        self._closed = False

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the record's line (``Handler.handle`` holds the lock); the flusher writes it."""
        try:
            self._pending.append(self.format(record) + self.terminator)
        except RecursionError:
            raise
        except Exception:  # As StreamHandler: a bad record must not break the request.
            self.handleError(record)
        if len(self._pending) >= MAX_PENDING:
            self._write_pending()
        if self._flusher is None:
            self._start_flusher()

    def flush(self) -> None:
        """Write the kept lines in one block and flush the stream."""
        with self.lock or contextlib.nullcontext():
            self._write_pending()
            super().flush()

    def _write_pending(self) -> None:
        if self._pending:
            block, self._pending = "".join(self._pending), []
            try:
                self.stream.write(block)
            except Exception:  # A closed or broken stream: the lines are lost, not the server.
                pass

    def _start_flusher(self) -> None:
        # Started on the first record, in the process that logs (uvicorn's workers are spawned
        # and configure their logging themselves).
        self._flusher = threading.Thread(target=self._flush_now_and_then, daemon=True,
                                         name="access-log-flush")
        self._flusher.start()

    def _flush_now_and_then(self) -> None:
        while not self._closed:
            time.sleep(self.interval)
            self.flush()

    def close(self) -> None:
        """Flush what is buffered and stop the flusher."""
        self._closed = True
        self.flush()
        super().close()
