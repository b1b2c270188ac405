"""``GET /openapi.json`` and ``GET /docs``: the document and its page, for this server.

The document names the server's address (its ``public_url``, else the address the request came
to) and its app id; both answers are built once per address and kept.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..routes.common import services_of
from .document import build
from .operations import DOCS_PATH, OPENAPI_PATH
from .page import CSP_HEADER, render

_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
_cache: dict[tuple[str, str, str], str] = {}


def _base_url(request: Request) -> str:
    settings = services_of(request).settings
    return (settings.public_url or f"{request.url.scheme}://{request.url.netloc}").rstrip("/")


def _made(request: Request, kind: str) -> str:
    app_id = services_of(request).settings.app_id
    key = (kind, app_id, _base_url(request))
    text = _cache.get(key)
    if text is None:
        document = build(app_id, key[2])
        text = json.dumps(document, indent=1) if kind == "json" else render(document)
        if len(_cache) > 64:
            # Clients choose the Host header, so the number of addresses is theirs to choose.
            _cache.clear()
        _cache[key] = text
    return text


async def openapi_json(request: Request) -> Response:
    """``GET /openapi.json``: the OpenAPI 3.1 document."""
    return Response(_made(request, "json"), media_type="application/json", headers=_HEADERS)


async def docs(request: Request) -> Response:
    """``GET /docs``: the document as a plain HTML page."""
    return Response(_made(request, "html"), media_type="text/html; charset=utf-8",
                    headers={**_HEADERS, "Content-Security-Policy": CSP_HEADER,
                             "Referrer-Policy": "no-referrer"})


ROUTES = [
    Route(OPENAPI_PATH, openapi_json, methods=["GET"]),
    Route(DOCS_PATH, docs, methods=["GET"]),
]
