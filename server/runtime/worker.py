"""A function worker: the child process that runs the app's functions, one call at a time.

Forked by the fork server (``server.runtime.forker``) with two pipes, one each way, that carry
``server.runtime.frames``. Rules, in the order ``main`` applies them:

1. The worker dies with the server: ``PR_SET_PDEATHSIG`` (SIGKILL when its parent, the fork
   server, ends, which it does when the server process does) and end of file on its pipe.
2. It runs at a lower priority (``nice`` +10), so a function that spins yields the CPU to the
   server's own event loop.
3. Its data segment is capped (``RLIMIT_DATA``: heap and private mappings); a function over the
   cap gets ``MemoryError``, which ends the call with a clear error and then this worker (a
   fresh one replaces it).
4. Context calls that need the store (custom user data) go to the server over the pipe (RPC),
   so the server stays the only owner of the store and its connections.

Imports the stdlib, ``bson`` and this package's small modules only: never the rest of ``server``.
"""

from __future__ import annotations

import ctypes
import os
import pickle
import resource
import signal
from typing import Any

from .. import ejson
from . import frames
from .engines import Engines
from .python import ResultError, encode_result, size_text

NICENESS = 10
_PR_SET_PDEATHSIG = 1


class _Pipe:
    def __init__(self, inbox: int, outbox: int) -> None:
        self.inbox, self.outbox = inbox, outbox

    def send(self, message: list[Any]) -> None:
        frames.write_all(self.outbox, frames.pack_to_server(message))

    def receive(self) -> tuple[Any, ...]:
        frame = frames.read_frame(self.inbox)
        if frame is None:
            os._exit(0)  # The server closed the pipe: it stopped, so must we.
        message = pickle.loads(frame)
        assert isinstance(message, tuple)
        return message


class WorkerUser:
    """The calling user as a function sees it: ``id``, ``type``, ``identities``, ``data`` and
    ``custom_data`` (read from the server the first time it is used)."""

    def __init__(self, context: WorkerContext, fields: dict[str, Any]) -> None:
        self.id: str = fields["id"]
        self.type: str = fields["type"]
        self.identities: list[dict[str, Any]] = fields["identities"]
        self.data: dict[str, Any] = fields["data"]
        self._context = context
        self._custom: dict[str, Any] | None = None

    @property
    def custom_data(self) -> dict[str, Any]:
        if self._custom is None:
            doc = self._context.ask("get_custom_data", self.id) or {}
            self._custom = {k: v for k, v in doc.items() if k != "_id"}
        return self._custom


class WorkerContext:
    """The first argument of every function: ``app_id``, ``user`` (``None`` for the server's own
    calls: authentication, confirmation, reset), and custom user data access."""

    def __init__(self, pipe: _Pipe, app_id: str, user: dict[str, Any] | None) -> None:
        self._pipe = pipe
        self.app_id = app_id
        self.user = WorkerUser(self, user) if user is not None else None

    def ask(self, method: str, *args: Any) -> Any:
        # A blocking round trip: the worker runs one call at a time, so nothing else waits.
        self._pipe.send(["context", method, list(args)])
        _, ok, text = self._pipe.receive()
        if not ok:
            raise RuntimeError(text)
        return ejson.loads(text)

    async def get_custom_data(self, user_id: str) -> dict[str, Any] | None:
        """The custom user data document of a user, or ``None``."""
        doc = self.ask("get_custom_data", str(user_id))
        return doc if isinstance(doc, dict) else None

    async def set_custom_data(self, user_id: str, doc: dict[str, Any]) -> None:
        """Replace the custom user data document of a user."""
        self.ask("set_custom_data", str(user_id), ejson.dumps_canonical(doc))


def _die_with_parent(parent: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        pass  # Not Linux: end of file on the pipe still stops an idle worker.
    if os.getppid() != parent:
        os._exit(0)  # The parent died before the line above took effect.


def _call(engine: Engines, pipe: _Pipe, message: tuple[Any, ...],
          memory: int, limit: int) -> list[Any]:
    _, name, public, args, app_id, user = message[:6]
    fn = engine.lookup(name, public=public)
    if fn is None:
        return ["done", False, ["not_found", f"function not found: '{name[:128]}'"]]
    try:
        context = WorkerContext(pipe, app_id, user)
        context.request = message[6] if len(message) > 6 else None  # type: ignore[attr-defined]
        result = engine.run(fn, context, args)
        return ["done", True, encode_result(result, limit)]
    except MemoryError:
        pass  # Answered below, once the function's frames (and their memory) are gone.
    except ResultError as exc:
        return ["done", False, ["error", str(exc)]]
    except Exception as exc:  # noqa: BLE001 (any failure of app code is the call's error)
        return ["done", False, ["error", str(exc) or type(exc).__name__, type(exc).__name__]]
    except BaseException as exc:  # noqa: BLE001 (sys.exit() ends the call, not the worker)
        kind = type(exc).__name__
        return ["done", False, ["error", f"function raised {kind}", kind]]
    return ["done", False, ["memory", f"function exceeded its memory limit of {size_text(memory)}"]]


def main(inbox: int, outbox: int, module: str, memory: int, limit: int, app: str = "", *,
         parent: int) -> None:
    """Run the worker (in a fresh fork of the fork server) until the server closes the pipe."""
    _die_with_parent(parent)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    pipe = _Pipe(inbox, outbox)
    os.nice(NICENESS)
    if memory:
        resource.setrlimit(resource.RLIMIT_DATA, (memory, memory))
    try:
        engine = Engines(module, app, memory)
    except BaseException as exc:  # noqa: BLE001 (reported to the server, which says why)
        pipe.send(["ready", f"{type(exc).__name__}: {exc}"])
        return
    pipe.send(["ready", None])
    while True:
        message = pipe.receive()
        if message[0] != "call":
            continue
        answer = _call(engine, pipe, message, memory, limit)
        pipe.send(answer)
        if not answer[1] and answer[2][0] == "memory":
            os._exit(0)  # Memory may be fragmented or held by leftovers: start afresh.
