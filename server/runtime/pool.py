"""Worker processes on the server's side: start, talk to, time out, kill and replace them.

Rules this module enforces:

1. One call per worker at a time, and ``size`` workers at most, started only when a call needs
   one (a server that never runs a function never starts a process).
2. A call's time limit counts from its arrival, queueing included; starting a worker does not
   count (that is the server's cost, not the function's). Past the limit the worker gets SIGKILL
   and its slot starts a fresh one for the next call.
3. One function never holds every worker: with two or more workers, at most ``size - 1`` calls
   of the same function run at once, so a function that hangs leaves room for the others (and
   for the login, confirmation and reset functions).
4. Everything a worker sends is checked (frame size, JSON); a worker that breaks the protocol is
   killed. The server never unpickles what a worker sends.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import frames
from .errors import (
    FunctionCrashed,
    FunctionError,
    FunctionMemoryLimit,
    FunctionsUnavailable,
    FunctionTimeout,
    from_wire,
)
from .forker import Forker, kill_group

START_TIMEOUT = 30.0
#: After the module failed to load, calls fail at once for this long before a worker tries again.
BROKEN_RETRY_SECONDS = 5.0

ContextHandler = Callable[[str, list[Any]], Awaitable[tuple[bool, str]]]


@dataclass(frozen=True)
class WorkerSpec:
    """What every worker of a pool runs, and its limits."""

    module: Path | None
    memory_bytes: int
    result_bytes: int
    #: The JavaScript functions, values and environment (``server.js_settings.runtime_app``).
    app: str = ""


class _Gone:
    """The worker's pipe reached end of file."""


_GONE = _Gone()


class Worker:
    """One worker process and the server's end of its pipes."""

    def __init__(self, spec: WorkerSpec, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.spec = spec
        self.pid = 0
        self._forker: Forker | None = None
        self._in_fd, self._child_out = os.pipe()
        self._child_in, self._out_fd = os.pipe()
        self._frames = frames.FrameBuffer(spec.result_bytes + frames.ENVELOPE_BYTES)
        self._received: collections.deque[list[Any] | _Gone] = collections.deque()
        self._waiter: asyncio.Future[list[Any] | _Gone] | None = None
        self._unsent = b""
        self.alive = False
        self.expired = False

    async def start(self) -> None:
        """Fork the worker (in a thread: the first one also starts the fork server)."""
        try:
            self._forker = await asyncio.to_thread(Forker.get)
            spec = self.spec
            self.pid = await asyncio.to_thread(
                self._forker.fork, self._child_in, self._child_out, str(spec.module or ""),
                spec.memory_bytes, spec.result_bytes, spec.app)
        finally:
            os.close(self._child_in)
            os.close(self._child_out)
        os.set_blocking(self._out_fd, False)
        os.set_blocking(self._in_fd, False)
        self.alive = True
        self.loop.add_reader(self._in_fd, self._readable)

    def send(self, data: bytes) -> None:
        """Queue a frame for the worker; what the pipe does not take now goes when it can."""
        if not self.alive:
            return
        if self._unsent:
            self._unsent += data
            return
        try:
            sent = os.write(self._out_fd, data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.kill()
            return
        if sent < len(data):
            self._unsent = data[sent:]
            self.loop.add_writer(self._out_fd, self._writable)

    def _writable(self) -> None:
        try:
            sent = os.write(self._out_fd, self._unsent)
        except BlockingIOError:
            return
        except OSError:
            self.kill()
            return
        self._unsent = self._unsent[sent:]
        if not self._unsent:
            self.loop.remove_writer(self._out_fd)

    def _readable(self) -> None:
        try:
            data = os.read(self._in_fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.kill()
            return
        try:
            messages = [json.loads(f) for f in self._frames.feed(data)]
        except ValueError:
            self.kill()  # Not our protocol: the function wrote over it, or worse.
            return
        for message in messages:
            if isinstance(message, list) and message and isinstance(message[0], str):
                self._deliver(message)
            else:
                self.kill()
                return

    def _deliver(self, message: list[Any] | _Gone) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(message)
        else:
            self._received.append(message)

    async def receive(self) -> list[Any] | _Gone:
        """The worker's next message, or ``_GONE`` once its pipe is closed."""
        if self._received:
            return self._received.popleft()
        self._waiter = self.loop.create_future()
        try:
            return await self._waiter
        finally:
            self._waiter = None

    def expire(self) -> None:
        """The call's time is up: kill the worker, and remember why."""
        self.expired = True
        self.kill()

    def kill(self) -> None:
        """SIGKILL the worker and close its pipes; waiting readers get ``_GONE``."""
        if self.alive and self.pid:
            kill_group(self.pid)
        self.close()

    def close(self) -> None:
        """Close the pipes: an idle worker sees end of file and exits by itself."""
        if not self.alive:
            return
        self.alive = False
        self.loop.remove_reader(self._in_fd)
        if self._unsent:
            self.loop.remove_writer(self._out_fd)
        os.close(self._out_fd)
        os.close(self._in_fd)
        self._deliver(_GONE)

    async def exit_text(self) -> str:
        """How the process ended, for an error message (waits a moment for the exit status)."""
        if self._forker is not None:
            for _ in range(20):
                code = await asyncio.to_thread(self._forker.status, self.pid)
                if code is not None:
                    return f"signal {-code}" if code < 0 else f"exit code {code}"
                await asyncio.sleep(0.01)
        return "no exit status"


@dataclass
class _Slot:
    worker: Worker | None = None
    running: str | None = None


@dataclass(eq=False)
class _Call:
    """One call on its way through the pool: queued for a slot, then on a worker."""

    name: str
    frame: bytes
    time_limit: float
    #: While queued: the slot it will be handed (``WorkerPool._release``).
    future: asyncio.Future[_Slot] | None = None
    #: The worker it was sent to; past the time limit that worker is killed.
    worker: Worker | None = None
    expired: bool = False

    def time_up(self) -> None:
        # The call's one timer, queueing included (rule 2).
        self.expired = True
        if self.worker is not None:
            self.worker.expire()
        elif self.future is not None and not self.future.done():
            self.future.set_exception(self.timeout())

    def timeout(self) -> FunctionTimeout:
        return FunctionTimeout(f"function exceeded its time limit of {self.time_limit:g} s")


@dataclass
class WorkerPool:
    """Up to ``size`` workers for one functions module, shared by every call of a server."""

    spec: WorkerSpec
    size: int
    _slots: list[_Slot] = field(default_factory=list)
    _waiters: collections.deque[_Call] = field(default_factory=collections.deque)
    _running: collections.Counter[str] = field(default_factory=collections.Counter)
    _broken: tuple[float, str] | None = None
    _closed: bool = False

    def __post_init__(self) -> None:
        self._slots = [_Slot() for _ in range(max(1, self.size))]
        self._lane = max(1, len(self._slots) - 1)

    async def call(self, name: str, message: tuple[Any, ...], time_limit: float,
                   context: ContextHandler) -> str:
        """Run one call (a ``("call", ...)`` message) on a worker; its result as EJSON text."""
        if self._closed:
            raise FunctionsUnavailable("the server is stopping")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + time_limit
        call = _Call(name, frames.pack_to_worker(message), time_limit)
        # One timer handle per call, for the wait and the run (rather than ``asyncio.timeout``:
        # this is the path every call takes, and the handle costs a fraction of it).
        timer = loop.call_at(deadline, call.time_up)
        try:
            slot = self._pick(name)
            if slot is not None:
                self._take(slot, name)
            else:
                slot = await self._acquire(call)
            try:
                worker = slot.worker
                if call.worker is None:
                    # Not sent yet: the worker may have to be started, which does not count.
                    if call.expired:
                        raise call.timeout()
                    if worker is None or not worker.alive:
                        timer.cancel()
                        slot.worker = None
                        started = loop.time()
                        slot.worker = worker = await self._start(loop)
                        deadline += loop.time() - started
                        timer = loop.call_at(deadline, call.time_up)
                    call.worker = worker
                    worker.send(call.frame)
                # (A worker that died after it was sent this call answers ``_GONE`` in
                # ``_converse``: the call may have started there, so it is not run again.)
                assert worker is not None
                return await self._converse(worker, call, context)
            finally:
                self._release(slot, name)
        finally:
            timer.cancel()

    async def _converse(self, worker: Worker, call: _Call, context: ContextHandler) -> str:
        keep = False
        try:
            while True:
                reply = await worker.receive()
                if isinstance(reply, _Gone):
                    if worker.expired:
                        raise call.timeout()
                    raise FunctionCrashed(
                        f"the function ended its worker process ({await worker.exit_text()})")
                if reply[0] != "context" or len(reply) != 3:
                    break
                ok, text = await context(str(reply[1]), list(reply[2]))
                worker.send(frames.pack_to_worker(("context", ok, text)))
            try:
                result = _outcome(reply)
            except FunctionMemoryLimit:
                raise  # The worker exits after this answer: not kept.
            except FunctionError:
                keep = True
                raise
            keep = True
            return result
        finally:
            if not keep:
                # Stopped mid-call (time limit, crash, memory, or the caller went away): the
                # worker's state is unknown, so it goes; its slot starts a fresh one when needed.
                worker.kill()

    def _pick(self, name: str) -> _Slot | None:
        if self._running[name] >= self._lane:
            return None
        cold = None
        for slot in self._slots:
            if slot.running is None:
                if slot.worker is not None and slot.worker.alive:
                    return slot
                cold = cold or slot
        return cold

    def _take(self, slot: _Slot, name: str) -> _Slot:
        slot.running = name
        self._running[name] += 1
        return slot

    async def _acquire(self, call: _Call) -> _Slot:
        # Wait for a slot. ``_release`` sends the call's frame as it hands the slot over (when
        # the slot's worker is alive), so the worker does not wait for this task to wake up.
        call.future = asyncio.get_running_loop().create_future()
        self._waiters.append(call)
        try:
            return await call.future
        except BaseException:
            future = call.future
            if future.done() and not future.cancelled() and future.exception() is None:
                # Handed a slot just as the caller left: give it back. A frame already sent
                # started a call nobody waits for, so that worker goes (as in ``_converse``).
                if call.worker is not None:
                    call.worker.kill()
                self._release(future.result(), call.name)
            raise
        finally:
            if call in self._waiters:
                self._waiters.remove(call)

    def _release(self, slot: _Slot, name: str) -> None:
        slot.running = None
        self._running[name] -= 1
        if not self._running[name]:
            del self._running[name]
        if not self._waiters:
            return
        # Hand the slot to the first waiter that may have it (the lane rule can skip some).
        for call in self._waiters:
            assert call.future is not None
            if not call.future.done() and self._running[call.name] < self._lane:
                self._waiters.remove(call)
                worker = slot.worker
                if worker is not None and worker.alive and not self._closed:
                    call.worker = worker
                    worker.send(call.frame)
                call.future.set_result(self._take(slot, call.name))
                return

    async def _start(self, loop: asyncio.AbstractEventLoop) -> Worker:
        if self._broken is not None:
            since, why = self._broken
            if time.monotonic() - since < BROKEN_RETRY_SECONDS:
                raise FunctionsUnavailable(why)
        worker = Worker(self.spec, loop)
        try:
            async with asyncio.timeout(START_TIMEOUT):
                await worker.start()
                ready = await worker.receive()
        except TimeoutError:
            ready = ["ready", f"it did not load within {START_TIMEOUT:g} s"]
        except OSError as exc:
            ready = ["ready", f"no worker process could be started ({exc})"]
        except BaseException:
            worker.kill()
            raise
        if isinstance(ready, _Gone) or ready[0] != "ready" or ready[1] is not None:
            worker.kill()
            why = "its worker process ended" if isinstance(ready, _Gone) else str(ready[-1])
            message = f"the functions module cannot be loaded: {why}"
            self._broken = (time.monotonic(), message)
            raise FunctionsUnavailable(message)
        self._broken = None
        return worker

    async def close(self) -> None:
        """Stop every worker: idle ones exit at end of file, busy ones are killed."""
        self._closed = True
        for slot in self._slots:
            if slot.worker is not None:
                if slot.running is None:
                    slot.worker.close()
                else:
                    slot.worker.kill()
                slot.worker = None
        for call in self._waiters:
            if call.future is not None and not call.future.done():
                call.future.set_exception(FunctionsUnavailable("the server is stopping"))


def _outcome(reply: list[Any]) -> str:
    if reply[0] == "done" and len(reply) == 3:
        ok, payload = reply[1], reply[2]
        if ok is True and isinstance(payload, str):
            return payload
        if isinstance(payload, list) and len(payload) in (2, 3):
            raise from_wire(*payload)
    raise FunctionError("the function's worker answered something unexpected")
