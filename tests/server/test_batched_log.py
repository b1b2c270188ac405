"""The access log's handler (``server/observability/batched_log.py``): lines are written in
blocks by a timer, never lost at close, and both of serve.py's log configs use it. The stream is
a recording stand-in for stdout (the transport edge); the real serve.py is in test_server_log."""

from __future__ import annotations

import logging
import time

from server.observability import batched_log, jsonlog, plainlog


class Recording:
    def __init__(self) -> None:
        self.writes: list[str] = []
        self.flushes = 0

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        self.flushes += 1


def _logger(handler: logging.Handler) -> logging.Logger:
    logger = logging.getLogger(f"test.batched.{id(handler)}")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return logger


def test_lines_leave_in_one_block_within_the_interval() -> None:
    stream = Recording()
    handler = batched_log.BatchedStreamHandler(stream, interval=0.05)
    logger = _logger(handler)
    for n in range(100):
        logger.info("GET /profile %d", n)
    assert stream.writes == [], "nothing is written per record"
    deadline = time.monotonic() + 5
    while not stream.writes and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(stream.writes) == 1
    assert stream.writes[0].splitlines() == [f"GET /profile {n}" for n in range(100)]
    handler.close()


def test_close_writes_what_is_kept_and_a_full_buffer_goes_at_once() -> None:
    stream = Recording()
    handler = batched_log.BatchedStreamHandler(stream, interval=60)
    logger = _logger(handler)
    for n in range(batched_log.MAX_PENDING):
        logger.info("line %d", n)
    assert len(stream.writes) == 1 and stream.writes[0].count("\n") == batched_log.MAX_PENDING
    logger.info("the last one")
    handler.close()
    assert stream.writes[-1] == "the last one\n"


def test_both_log_configs_batch_the_access_log_only() -> None:
    for config in (plainlog.log_config(), jsonlog.log_config()):
        handlers = config["handlers"]
        assert handlers["access"]["class"].endswith("batched_log.BatchedStreamHandler")
        assert handlers["default"]["class"] == "logging.StreamHandler"
