"""Python functions that JavaScript functions call, and that call them (test_js_functions)."""

from __future__ import annotations

from typing import Any


async def py_double(context: Any, x: int) -> int:
    return int(await context.functions.execute("add", x, x))


def py_values(context: Any) -> dict[str, Any]:
    return {"greeting": context.values.get("greeting"), "tag": context.environment.tag}


async def py_chain(context: Any, x: int) -> Any:
    # Python (async) -> JavaScript -> Python (async, run by hand inside this loop) -> JavaScript.
    return await context.functions.execute("callPython", x)
