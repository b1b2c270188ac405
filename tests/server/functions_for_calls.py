"""An app functions module for the tests: functions that echo, fail, loop, return odd values,
and authenticate in every way the ``custom-function`` provider allows. The server loads it by
path (``functions = ".../app_functions.py"`` in the config overrides)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import time
from json import dumps  # noqa: F401 (imported names are not the app's functions)
from typing import Any

from bson import ObjectId

PRIVATE = {"secret_helper", "auth_string", "auth_object", "auth_oid", "auth_none",
           "auth_raises", "auth_slow", "auth_types"}

FIXED_ID = ObjectId("65a0c0ffee0000000000aaaa")


class Thing:
    """A class is not a function, even though it is callable."""


def echo(context: Any, *args: Any) -> list[Any]:
    return list(args)


def types(context: Any, *args: Any) -> list[str]:
    return [type(a).__name__ for a in args]


async def async_echo(context: Any, *args: Any) -> list[Any]:
    await asyncio.sleep(0)
    return list(args)


def whoami(context: Any) -> dict[str, Any]:
    user = context.user
    return {"id": user.id, "type": user.type, "data": user.data,
            "providers": [i["provider_type"] for i in user.identities],
            "custom_data": user.custom_data, "app_id": context.app_id}


async def set_plan(context: Any, plan: str) -> dict[str, Any]:
    doc = await context.get_custom_data(context.user.id) or {}
    doc["plan"] = plan
    await context.set_custom_data(context.user.id, doc)
    return doc


def custom_data(context: Any) -> dict[str, Any]:
    return dict(context.user.custom_data)


def values(context: Any) -> dict[str, Any]:
    return {
        "int": 1, "big": 2**40, "float": 1.5, "str": "s", "bool": True, "none": None,
        "list": [1, "a"], "when": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "oid": FIXED_ID, "bytes": b"\x00\x01",
    }


def boom(context: Any, message: str = "boom: something broke") -> None:
    raise ValueError(message)


def boom_bare(context: Any) -> None:
    raise RuntimeError()


async def async_boom(context: Any) -> None:
    raise KeyError("missing")


def exits(context: Any) -> None:
    sys.exit(3)


def spin(context: Any, seconds: float) -> str:
    # Pure CPU, no sleeping: the server must still answer other requests meanwhile.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pass
    return "done"


async def async_sleep(context: Any, seconds: float) -> str:
    await asyncio.sleep(seconds)
    return "done"


def unencodable(context: Any, kind: str) -> Any:
    if kind == "set":
        return {1, 2}
    if kind == "object":
        return {"nested": [object()]}
    if kind == "huge":
        return {"n": [2**70]}
    if kind == "bytearray":
        return bytearray(b"x")
    if kind == "deep":
        deep: list[Any] = []
        deep.append(deep)
        return deep
    return {("tuple", "key"): 1}


def secret_helper(context: Any) -> str:
    return "should never reach a client"


def _underscored(context: Any) -> str:
    return "private by name"


# Authentication functions (private).

def auth_string(context: Any, payload: dict[str, Any]) -> str:
    return str(payload["user"])


def auth_object(context: Any, payload: dict[str, Any]) -> dict[str, Any]:
    return {"id": payload["user"], "name": payload.get("display", "")}


def auth_oid(context: Any, payload: dict[str, Any]) -> ObjectId:
    return FIXED_ID


def auth_none(context: Any, payload: dict[str, Any]) -> None:
    return None


def auth_raises(context: Any, payload: dict[str, Any]) -> str:
    if payload.get("secret") != "open sesame":
        raise PermissionError("bad secret")
    return "sesame-user"


def auth_slow(context: Any, payload: dict[str, Any]) -> str:
    return spin(context, 2.0)


def auth_types(context: Any, payload: dict[str, Any]) -> str:
    assert context.user is None
    kinds = ",".join(f"{k}={type(v).__name__}" for k, v in sorted(payload.items()))
    return f"types:{kinds}"


async def set_custom(context: Any, doc: dict[str, Any]) -> None:
    await context.set_custom_data(context.user.id, doc)


# Functions that misbehave for good (tests/server/test_function_isolation.py).

def spin_forever(context: Any) -> None:
    while True:
        pass


async def async_spin_forever(context: Any) -> None:
    while True:
        pass


def hog(context: Any) -> None:
    chunks = []
    while True:
        chunks.append(bytearray(16 << 20))


def hard_exit(context: Any, code: int = 3) -> None:
    os._exit(code)


def big_result(context: Any, size: int) -> str:
    return "x" * size


def pid(context: Any) -> int:
    return os.getpid()


async def get_custom(context: Any) -> Any:
    return await context.get_custom_data(context.user.id)
