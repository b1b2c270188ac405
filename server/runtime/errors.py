"""How a function call can fail, as the services see it.

Every failure is a ``FunctionError``; the services map ``FunctionTimeout`` to
``ExecutionTimeLimitExceeded``, ``FunctionNotFound`` to ``FunctionNotFound`` and every other one
to ``FunctionExecutionError`` with its message. Imports only the stdlib.
"""

from __future__ import annotations


class FunctionError(Exception):
    """A call did not produce a result; the message says why, for the caller.

    ``raised`` names the type of the exception the function raised (``""`` for failures of the
    runtime itself), for logs that must not quote the message.
    """

    kind = "error"

    def __init__(self, message: str, raised: str = "") -> None:
        super().__init__(message)
        self.raised = raised


class FunctionNotFound(FunctionError):
    """No such function (or a private one asked for by a client)."""

    kind = "not_found"


class FunctionTimeout(FunctionError):
    """The call ran (or waited) past its time limit; its worker was stopped."""

    kind = "timeout"


class FunctionCrashed(FunctionError):
    """The worker process ended during the call (``os._exit``, a signal, a crash)."""

    kind = "crashed"


class FunctionMemoryLimit(FunctionError):
    """The function asked for more memory than a worker may have."""

    kind = "memory"


class FunctionsUnavailable(FunctionError):
    """The functions module cannot be loaded (it raised or hung at import)."""

    kind = "unavailable"


_KINDS: dict[str, type[FunctionError]] = {
    cls.kind: cls for cls in (FunctionError, FunctionNotFound, FunctionTimeout, FunctionCrashed,
                              FunctionMemoryLimit, FunctionsUnavailable)
}


def from_wire(kind: object, message: object, raised: object = "") -> FunctionError:
    """The error a worker reported as ``[kind, message, raised]``."""
    cls = _KINDS.get(kind, FunctionError) if isinstance(kind, str) else FunctionError
    return cls(str(message), str(raised)[:128])
