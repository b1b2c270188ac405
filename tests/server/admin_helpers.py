"""Helpers of the Admin API tests: admin keys made on the server's own store, and ``Admin``, a
tiny driver of ``/api/admin/v3.0`` over a live server (real HTTP)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import httpx

from app.sdk import routes
from server import build_services
from server.admin_api import apps, keys, paths
from server.openapi.admin_schemas import ADMIN_ACCESS, ADMIN_REFRESH
from server.settings import Settings
from server.store.base import AdminKey

from .helpers import APP_ID, auth

#: The Admin API's token kinds in the OpenAPI table.
ADMIN = (ADMIN_ACCESS, ADMIN_REFRESH)


def make_admin_key(settings: Settings, name: str) -> tuple[AdminKey, str]:
    """A new admin key on the settings' store (as ``serve.py admin-keys create`` makes one)."""
    async def go() -> tuple[AdminKey, str]:
        services = await build_services(settings)
        try:
            return await keys.create_key(services, name)
        finally:
            await services.store.close()

    return asyncio.run(go())


def ids(settings: Settings) -> tuple[str, str]:
    """The group id and the app's ``_id`` the server answers for."""
    return ids_for(settings.app_id)


def ids_for(app_id: str) -> tuple[str, str]:
    """The group id and the app's ``_id`` of a server running ``app_id``."""
    fake: Any = SimpleNamespace(settings=SimpleNamespace(app_id=app_id))
    return apps.group_id(fake), apps.app_object_id(fake)


class Admin:
    """The Admin API of a live server, logged in with one admin key."""

    def __init__(self, http: httpx.Client, settings: Settings, public: str, private: str):
        self.http = http
        self.group, self.app = ids(settings)
        resp = http.post(paths.LOGIN, json={"username": public, "apiKey": private})
        assert resp.status_code == 200, resp.text
        self.session: dict[str, str] = resp.json()

    @property
    def headers(self) -> dict[str, str]:
        return auth(self.session["access_token"])

    def path(self, template: str, **values: str) -> str:
        return paths.fill(template, group_id=self.group, app_object_id=self.app, **values)

    def get(self, template: str, params: dict[str, Any] | None = None, **values: str) -> Any:
        return self.http.get(self.path(template, **values), params=params, headers=self.headers)

    def put(self, template: str, json: Any = None, **values: str) -> Any:
        return self.http.put(self.path(template, **values), json=json, headers=self.headers)

    def post(self, template: str, json: Any = None, **values: str) -> Any:
        return self.http.post(self.path(template, **values), json=json, headers=self.headers)

    def delete(self, template: str, **values: str) -> Any:
        return self.http.delete(self.path(template, **values), headers=self.headers)


def fill(path: str) -> str:
    """A documented path with every parameter filled in: this app (and its Admin API group and
    ``_id``), and ids or an address that name nothing."""
    group, app_object_id = ids_for(APP_ID)
    return path.format(app_id=APP_ID, provider=routes.ANON_USER, key_id="0" * 24,
                       group_id=group, app_object_id=app_object_id, user_id="0" * 24,
                       email="nobody@example.com", credential_id="AAAA",
                       session_id="0" * 24)
