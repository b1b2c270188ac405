"""The JavaScript engine: App Services functions in QuickJS (``quickjs-ng``), inside a worker.

A function's source is what App Services keeps in ``functions/<name>.js``: it sets ``exports``
(or ``module.exports``) to a function, sync or ``async``, arrow or not. It runs once per worker,
on the function's first call there. Each call sets the global ``context`` (user, values,
environment, functions, services, request) and runs the function; a returned promise is driven
to its end by running the engine's pending jobs. Arguments and results cross as canonical EJSON
(``bson.js`` has the ``BSON`` and ``EJSON`` globals, ``prelude.js`` ``utils.crypto``, ``console``
and ``context``).

Isolation is the worker's (``server.runtime.worker``): its time limit, its memory cap and its
process. The engine adds a heap limit inside that cap, so that a function that hoards memory gets
a clean error; the worker then ends (a fresh one replaces it). QuickJS has no file system,
network or timers of its own: a function reaches only what ``_Host`` answers.

The one callable the engine gets, ``__host(method, text)``, never raises (QuickJS does not carry
Python exceptions): it answers ``"1" + result`` or ``"0" + message``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import quickjs  # type: ignore[import-untyped, unused-ignore]

from .. import ejson
from .python import encode_result

#: The globals, in load order: BSON and EJSON, then utils, console, context and the call.
PRELUDE = [Path(__file__).with_name(name).read_text(encoding="utf-8")
           for name in ("bson.js", "prelude.js")]
#: Lines the factory puts before a function's source (``lookup`` in prelude.js).
_WRAP_HEAD = "var module = { exports: undefined }; var exports;\n"
_WRAP_TAIL = "\n;return exports !== undefined ? exports : module.exports;"
_HASHES = {"sha256": hashlib.sha256, "sha1": hashlib.sha1, "md5": hashlib.md5}
#: The heap a worker keeps for Python itself, outside the engine's limit.
PYTHON_HEADROOM = 96 << 20
CHECK_MEMORY = 64 << 20
#: The engine's stack: about 2,400 frames of plain recursion, well inside the main thread's
#: 8 MiB (deeper recursion is a RangeError, as in a browser).
STACK_BYTES = 4 << 20
MAX_SOURCE = 4 << 20


class JsError(Exception):
    """A JavaScript function threw (or rejected); ``raised`` is the JavaScript error's name."""

    def __init__(self, message: str, raised: str) -> None:
        super().__init__(message)
        self.raised = raised


_ERROR_TYPES: dict[str, type[JsError]] = {}


def _error(message: str, name: str) -> JsError:
    # The worker reports the exception's type name: make it the JavaScript error's name.
    name = re.sub(r"\W", "", name)[:64] or "Error"
    cls = _ERROR_TYPES.get(name)
    if cls is None:
        cls = _ERROR_TYPES[name] = type(name, (JsError,), {})
    return cls(message, name)


def check_source(text: str) -> str | None:
    """Why the source of a function does not compile (``None`` when it does). Compiling runs
    nothing: the source becomes the body of a ``Function`` that is never called."""
    if len(text) > MAX_SOURCE:
        return f"it is larger than {MAX_SOURCE >> 20} MiB"
    ctx = quickjs.Context()
    ctx.set_memory_limit(CHECK_MEMORY)
    ctx.set_time_limit(10)
    try:
        ctx.eval(f"new Function({json.dumps(_WRAP_HEAD + text + _WRAP_TAIL)})")
    except Exception as exc:  # noqa: BLE001 (the engine's errors have no common base but this)
        first, _, rest = str(exc).partition("\n")
        place = re.search(r"<input>:(\d+):(\d+)", rest)
        if place is not None:
            # The Function constructor adds two lines before the body, our wrapper one.
            first += f" (line {max(1, int(place.group(1)) - 3)}, column {place.group(2)})"
        return first
    return None


@dataclass(frozen=True)
class JsFunction:
    """A JavaScript function of the app, by name."""

    name: str


class JsFunctions:
    """The JavaScript functions of one app in one worker, and the engine they share.

    ``app`` is what the server sends at fork: ``functions`` (name -> ``[path, private]``),
    ``values`` (canonical EJSON text), ``environment`` and ``custom_data`` (its collection and
    user id field, or ``None``). ``execute`` runs any function by name for
    ``context.functions.execute`` (JavaScript or Python; the dispatcher's).
    """

    def __init__(self, app: dict[str, Any], memory: int) -> None:
        self.table: dict[str, tuple[str, bool]] = {
            str(k): (str(v[0]), bool(v[1])) for k, v in app.get("functions", {}).items()}
        self.app = app
        self.memory = memory
        self.execute: Any = None
        self._ctx: Any = None
        self._calls: dict[str, Any] = {}  # The prelude's entry points, looked up once.
        self._stack: list[Any] = []

    def lookup(self, name: str, *, public: bool) -> JsFunction | None:
        """The function ``name`` if it is one of ours (and clients may call it)."""
        entry = self.table.get(name)
        if entry is None or (public and entry[1]):
            return None
        return JsFunction(name)

    def run(self, fn: JsFunction, context: Any, args: list[Any]) -> Any:
        """Call ``fn`` with the worker's ``context``; its result as Python and BSON values."""
        ctx = self._engine()
        nested = bool(self._stack)
        user = getattr(context, "user", None)
        fields = "null" if user is None else ejson.dumps_canonical({
            "id": user.id, "type": user.type, "data": user.data, "identities": user.identities})
        self._stack.append(context)
        try:
            call_id = self._guard(lambda: self._calls["__call"](
                fn.name, ejson.dumps_canonical(args), fields,
                json.dumps(getattr(context, "request", None)), nested))
            outcome = self._guard(lambda: self._settle(ctx, call_id))
        finally:
            self._stack.pop()
            if not self._stack:
                self.flush_logs(context, fn.name)
        if outcome[0] is True:
            return ejson.loads(outcome[1])
        message, name = str(outcome[1]), str(outcome[2])
        if (name == "InternalError" and "out of memory" in message) or (
                message == "null" and self._heap_full()):
            # QuickJS throws null when it has no memory left even for an error object.
            raise MemoryError(message)
        raise _error(message, name)

    def flush_logs(self, context: Any, name: str) -> None:
        """Send what the call wrote with ``console.log`` to the server's log, as one line."""
        if self._ctx is None:
            return
        try:
            text = self._calls["__logs"]()
            if text and hasattr(context, "ask"):
                context.ask("log", name, str(text))
        except Exception:  # noqa: BLE001,S110 (a log line is not worth failing the call, and
            pass  # an engine out of memory must not hide that error behind this one)

    def _heap_full(self) -> bool:
        stats = self._ctx.memory() if self._ctx is not None else {}
        limit = stats.get("malloc_limit", 0)
        return bool(limit) and 0 < limit < (1 << 62) and stats.get("malloc_size", 0) > limit * 0.8

    def _settle(self, ctx: Any, call_id: int) -> list[Any]:
        outcome_of = self._calls["__outcome"]
        while True:
            text = outcome_of(call_id)
            if text is not None:
                return list(json.loads(text))
            if ctx.execute_pending_job():
                continue
            delay = ctx.get("__nextTimer")()
            if delay < 0:
                return [False, "the function returned a promise that never settled", "Error"]
            time.sleep(delay / 1000)  # The pool's time limit still counts.
            ctx.get("__fireTimer")()

    def _guard(self, step: Any) -> Any:
        try:
            return step()
        except quickjs.JSException as exc:
            text = str(exc)
            if text.strip() in ("null", "") or "out of memory" in text:
                raise MemoryError("the JavaScript heap is full") from exc
            first = text.partition("\n")[0]
            name, _, message = first.partition(": ")
            raise _error(message or first, name if message else "Error") from exc

    def _engine(self) -> Any:
        if self._ctx is None:
            ctx = quickjs.Context()
            if self.memory:
                ctx.set_memory_limit(max(self.memory - PYTHON_HEADROOM, self.memory // 2))
            ctx.set_max_stack_size(STACK_BYTES)
            ctx.add_callable("__host", _Host(self).answer)
            for script in PRELUDE:
                ctx.eval(script)
            self._calls = {name: ctx.get(name) for name in ("__call", "__outcome", "__logs")}
            self._ctx = ctx
        return self._ctx

    @property
    def context(self) -> Any:
        """The worker context of the call running now."""
        return self._stack[-1]


class _Host:
    """What JavaScript may ask of the worker: ``__host(method, text)``."""

    def __init__(self, functions: JsFunctions) -> None:
        self.fns = functions

    def answer(self, method: str, text: str) -> str:
        try:
            return "1" + self._answer(str(method), str(text))
        except MemoryError:
            return "0out of memory"
        except Exception as exc:  # noqa: BLE001 (QuickJS cannot carry a Python exception)
            return "0" + (str(exc) or type(exc).__name__)

    def _answer(self, method: str, text: str) -> str:
        fns = self.fns
        if method == "app":
            cd = fns.app.get("custom_data")
            return json.dumps({"values": json.loads(fns.app.get("values") or "{}"),
                               "environment": fns.app.get("environment", ""),
                               "custom_data": cd})
        if method == "is_js":
            return "true" if text in fns.table else "false"
        if method == "source":
            if text not in fns.table:
                raise LookupError(f"function not found: '{text[:128]}'")
            return Path(fns.table[text][0]).read_text(encoding="utf-8")
        if method == "ask":
            params = json.loads(text)
            return ejson.dumps_canonical(fns.context.ask(str(params[0]), *params[1:]))
        if method == "execute":
            name, args = json.loads(text)
            if fns.execute is None:
                raise LookupError(f"function not found: '{str(name)[:128]}'")
            result = fns.execute(str(name), fns.context, ejson.loads(args))
            return encode_result(result, 1 << 30)
        if method in ("hash", "hmac"):
            return _crypto(method, json.loads(text))
        raise LookupError(f"no host method {method[:64]!r}")


def _crypto(method: str, params: list[Any]) -> str:
    if method == "hash":
        algorithm, data = str(params[0]), base64.b64decode(params[1])
        return base64.b64encode(_hash(algorithm)(data).digest()).decode()
    data, secret = base64.b64decode(params[0]), base64.b64decode(params[1])
    algorithm, form = str(params[2]), str(params[3])
    digest = hmac.new(secret, data, _hash(algorithm)).digest()
    if form == "hex":
        return digest.hex()
    if form == "base64":
        return base64.b64encode(digest).decode()
    raise ValueError(f"utils.crypto.hmac: output format {form[:32]!r} is not hex or base64")


def _hash(algorithm: str) -> Any:
    fn = _HASHES.get(algorithm.lower())
    if fn is None:
        raise ValueError(f"utils.crypto: hash function {algorithm[:32]!r} is not "
                         f"{', '.join(_HASHES)}")
    return fn

