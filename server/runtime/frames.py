"""The pipe protocol between the server and its function workers: length-prefixed frames.

A frame is a 4-byte big-endian length and that many bytes. The server writes pickles (it is the
trusted side: what it sends is its own decoded request values); a worker writes JSON, so nothing
a function does can make the server unpickle code. Worker messages are JSON arrays whose first
item names the message:

- ``["ready", error]``: the functions module loaded (``error`` is ``null``) or failed to load.
- ``["done", ok, text]``: the call ended; ``text`` is the result as canonical EJSON when ``ok``,
  otherwise ``[kind, message]`` (see ``server.runtime.errors``).
- ``["context", method, args]``: the function asked its context for something the server holds
  (custom user data); the server answers with ``("context", ok, ejson_text)``.

Server messages are pickled tuples: ``("call", name, public, args, app_id, user)`` and the
context answers. Imports only the stdlib: workers load this module before anything else.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
from typing import Any

HEADER = struct.Struct(">I")
#: No frame from a worker is longer than this (a result at the limit plus the envelope); a
#: worker that announces more is broken and gets killed.
ENVELOPE_BYTES = 64 * 1024
# ``json.dumps`` with ``separators`` builds a new encoder on every call; a worker reuses one.
_ENCODE = json.JSONEncoder(separators=(",", ":")).encode


def pack_to_worker(message: tuple[Any, ...]) -> bytes:
    """A frame for a worker: a pickle of plain values."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(body)) + body


def pack_to_server(message: list[Any]) -> bytes:
    """A frame for the server: JSON text."""
    body = _ENCODE(message).encode()
    return HEADER.pack(len(body)) + body


def read_exact(fd: int, size: int) -> bytes | None:
    """``size`` bytes from a blocking file descriptor, or ``None`` at end of file."""
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> bytes | None:
    """The next frame's body from a blocking file descriptor, or ``None`` at end of file."""
    header = read_exact(fd, HEADER.size)
    if header is None:
        return None
    return read_exact(fd, HEADER.unpack(header)[0])


def write_all(fd: int, data: bytes) -> None:
    """Write every byte to a blocking file descriptor."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class FrameBuffer:
    """Splits bytes read from a non-blocking pipe into frames."""

    def __init__(self, max_frame: int) -> None:
        self.max_frame = max_frame
        self._data = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """The frames completed by ``data``; ``ValueError`` for a frame over the limit."""
        self._data += data
        frames: list[bytes] = []
        while len(self._data) >= HEADER.size:
            (size,) = HEADER.unpack_from(self._data)
            if size > self.max_frame:
                raise ValueError(f"a frame of {size} bytes is over the limit")
            end = HEADER.size + size
            if len(self._data) < end:
                break
            frames.append(bytes(self._data[HEADER.size:end]))
            del self._data[:end]
        return frames
