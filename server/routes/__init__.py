"""Thin HTTP endpoints: parse, call one service, answer JSON. Each module lists its ``ROUTES``."""

from __future__ import annotations

from starlette.routing import BaseRoute

from . import auth, location, session

ROUTES: list[BaseRoute] = [*location.ROUTES, *auth.ROUTES, *session.ROUTES]
