"""The SDK's public API is exactly its ``__all__``: complete, sorted and defined in ``app.sdk``."""

from __future__ import annotations

import app.sdk

EXPECTED = [
    "App",
    "AppError",
    "Authenticator",
    "Credentials",
    "ErrorCode",
    "MemoryStorage",
    "Request",
    "Response",
    "SecondFactorRequired",
    "Storage",
    "Transport",
    "User",
    "UserState",
]


def test_all_is_exactly_the_public_api() -> None:
    assert app.sdk.__all__ == EXPECTED


def test_all_is_sorted() -> None:
    assert app.sdk.__all__ == sorted(app.sdk.__all__)


def test_every_exported_name_is_defined_in_the_sdk() -> None:
    for name in app.sdk.__all__:
        member = getattr(app.sdk, name)
        assert member.__module__.startswith("app.sdk."), name


def test_no_other_public_names_leak_from_the_package() -> None:
    public = {
        name
        for name, value in vars(app.sdk).items()
        if not name.startswith("_") and not isinstance(value, type(app.sdk))
    }
    assert public - {"annotations"} == set(EXPECTED)
