"""Functions: calling the app's server functions as ``user.functions.<name>(*args)``.

Arguments travel as canonical EJSON (``POST …/functions/call``, protocol section 10) with the
calling user's access token; the result comes back EJSON-decoded. Standard library only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from . import routes

if TYPE_CHECKING:
    from .user import User


class FunctionsFactory:
    """Server functions of one user, reachable as attributes.

    ```python
    await user.functions.translate("hello", "en_fr")     # "bonjour"
    await user.functions.call("translate", "hello", "en_fr")
    translate = user.functions.translate                  # a plain coroutine function
    ```

    A function named like a method of this class (``call``) or starting with ``_`` is reached
    through ``call(name, ...)`` only.
    """

    def __init__(self, user: User, *, service: str | None = None) -> None:
        self._user = user
        self._service = service

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        # Private and dunder names stay ordinary attribute errors, so copy, pickle and
        # introspection keep working.
        if name.startswith("_"):
            raise AttributeError(name)

        async def call(*args: Any) -> Any:
            return await self.call(name, *args)

        call.__name__ = call.__qualname__ = name
        return call

    async def call(self, name: str, *args: Any) -> Any:
        """Call the server function ``name`` with positional ``args`` and return its result."""
        if not isinstance(name, str) or not name:
            raise ValueError("A function name must be a non-empty string.")
        body: dict[str, Any] = {"name": name, "arguments": list(args)}
        if self._service is not None:
            body["service"] = self._service
        path = routes.functions_call(self._user.app.id)
        return await self._user._fetcher.fetch(
            "POST", path, body=body, token_type="access", user=self._user
        )
