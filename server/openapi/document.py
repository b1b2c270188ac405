"""``build(app_id, base_url)``: the OpenAPI 3.1 document of the HTTP API, as a plain dict.

It is assembled from ``operations.OPERATIONS`` and ``schemas``; the only parts that vary are the
server's address (``servers``) and its app id (the example of ``{app_id}``).
"""

from __future__ import annotations

import copy
import functools
from importlib import metadata
from typing import Any

from .admin_schemas import ADMIN_ACCESS, ADMIN_REFRESH
from .operations import ACCESS, OPERATIONS, OPTIONAL_ACCESS, REFRESH, TAGS, Operation
from .schemas import ERROR_REF, ERROR_RESPONSE, SCHEMAS, SECURITY_SCHEMES

OPENAPI_VERSION = "3.1.0"

DESCRIPTION = """\
The HTTP API of a Latchkey server: the App Services client API v2.0 that realm-web, realm-core
and Latchkey's own SDK speak, plus Latchkey's additions (the list of login providers, the
social login callback and this reference), and under `/api/admin/v3.0` the App Services Admin
API v3.0 for users, as the `appservices` CLI calls it (with admin keys made by
`python serve.py admin-keys create NAME`), plus Latchkey's additions to it (marked so).

- Request bodies are JSON objects sent as `application/json`, decoded as Extended JSON
  (canonical or relaxed), at most `[security] max_body_bytes` (64 KiB by default).
- Every error is `{"error", "error_code", "link"}` with `Content-Type: application/json`
  exactly (the `Error` schema); a success without a body has no `Content-Type` at all.
- A path that does not exist answers 404 `NotFound`, a method a path does not serve 405
  `MethodNotAllowed` with an `Allow` header. Every path answers CORS preflights (`OPTIONS`)
  for the origins in `[cors] allowed_origins`.
- Not listed here: the front end that `serve.py` serves beside the API (the pages `/`,
  `/index.html`, `/confirm.html`, `/reset.html`, `/pyscript.toml`; the admin console
  `/admin`, `/admin.html` and its config `/admin.json`; the page's Python under `/app/` and as
  one archive, `/app.zip`; `/static/`; `/embed/bundle.json`; the SDK's wheel under `/sdk/`; and
  the vendored Pyodide and PyScript under `/vendor/`).
"""

_SECURITY: dict[str | None, list[dict[str, list[str]]]] = {
    None: [],
    ACCESS: [{"accessToken": []}],
    REFRESH: [{"refreshToken": []}],
    OPTIONAL_ACCESS: [{}, {"accessToken": []}],
    ADMIN_ACCESS: [{ADMIN_ACCESS: []}],
    ADMIN_REFRESH: [{ADMIN_REFRESH: []}],
}

_PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "app_id": {"name": "app_id", "in": "path", "required": True, "schema": {"type": "string"},
               "description": "The client App ID this server runs; any other answers 404 "
               "`AppNotFound`."},
    "provider": {"name": "provider", "in": "path", "required": True,
                 "schema": {"type": "string"},
                 "description": "A provider name: `anon-user`, `local-userpass`, `api-key`, "
                 "`custom-token`, `custom-function`, `oauth2-google`, `oauth2-apple`, "
                 "`oauth2-facebook` or `oidc-<name>`.",
                 "examples": {"anonymous": {"value": "anon-user"},
                              "emailPassword": {"value": "local-userpass"}}},
    "key_id": {"name": "key_id", "in": "path", "required": True, "schema": {"type": "string"},
               "description": "The `_id` of an API key: one of the caller's on the client "
               "API, any of the user's or the app's on the Admin API."},
    "group_id": {"name": "group_id", "in": "path", "required": True,
                 "schema": {"type": "string"},
                 "description": "Admin API: the group (project) id this server answers for "
                 "(`GET /api/admin/v3.0/auth/profile` names it); any other answers 404 "
                 "`GroupNotFound`."},
    "app_object_id": {"name": "app_object_id", "in": "path", "required": True,
                      "schema": {"type": "string"},
                      "description": "Admin API: the app's `_id` (from `GET .../apps`), not "
                      "its client App ID; any other answers 404 `AppNotFound`."},
    "user_id": {"name": "user_id", "in": "path", "required": True,
                "schema": {"type": "string"},
                "description": "Admin API: a user's `_id`."},
    "email": {"name": "email", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "Admin API: the address of an email/password registration."},
    "credential_id": {"name": "credential_id", "in": "path", "required": True,
                      "schema": {"type": "string"},
                      "description": "The `id` of one of the caller's passkeys (base64url)."},
    "session_id": {"name": "session_id", "in": "path", "required": True,
                   "schema": {"type": "string"},
                   "description": "The `session_id` of one of the caller's sessions."},
}


def _version() -> str:
    try:
        return metadata.version("latchkey")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def _path_parameters(path: str) -> list[dict[str, str]]:
    return [{"$ref": f"#/components/parameters/{name}"} for name in _PATH_PARAMETERS
            if "{" + name + "}" in path]


def _operation(op: Operation) -> dict[str, Any]:
    out: dict[str, Any] = {"operationId": op.operation_id, "tags": [op.tag],
                           "summary": op.summary}
    if op.description:
        out["description"] = op.description
    parameters = [*_path_parameters(op.path), *op.query]
    if parameters:
        out["parameters"] = parameters
    if op.security is not None:
        out["security"] = _SECURITY[op.security]
    content = dict(op.other_body)
    if op.body is not None:
        content["application/json"] = {"schema": {"$ref": f"#/components/schemas/{op.body}"}}
        if op.examples:
            content["application/json"]["examples"] = {
                name: {"value": value} for name, value in op.examples.items()}
    if content:
        out["requestBody"] = {"required": op.body is not None, "content": content}
    responses: dict[str, Any] = dict(op.ok)
    for status, text in sorted(op.errors.items()):
        responses[str(status)] = {"$ref": ERROR_REF, "description": text}
    responses["default"] = {"$ref": ERROR_REF, "description": "Any other failure."}
    out["responses"] = responses
    return out


@functools.cache
def _paths() -> dict[str, dict[str, Any]]:
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation(op)
    return paths


def build(app_id: str, base_url: str) -> dict[str, Any]:
    """The document for a server running ``app_id`` at ``base_url`` (no trailing slash)."""
    parameters = copy.deepcopy(_PATH_PARAMETERS)
    parameters["app_id"]["example"] = app_id
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "Latchkey HTTP API", "version": _version(),
                 "description": DESCRIPTION},
        "servers": [{"url": base_url}],
        "tags": TAGS,
        "paths": copy.deepcopy(_paths()),
        "components": {
            "schemas": copy.deepcopy(SCHEMAS),
            "responses": {"Error": copy.deepcopy(ERROR_RESPONSE)},
            "parameters": parameters,
            "securitySchemes": copy.deepcopy(SECURITY_SCHEMES),
        },
    }
