"""Location discovery: where the app's API lives (this very server)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.sdk import routes as paths

from .common import check_app, json_ok


async def location(request: Request) -> Response:
    """``GET .../location``: ``hostname`` points back at this server."""
    services = check_app(request)
    base = services.settings.public_url or f"{request.url.scheme}://{request.url.netloc}"
    base = base.rstrip("/")
    ws = "wss://" + base.removeprefix("https://") if base.startswith("https://") else \
        "ws://" + base.removeprefix("http://")
    answer = json_ok({
        "hostname": base,
        "ws_hostname": ws,
        "deployment_model": "LOCAL",
        "location": "self-hosted",
    })
    # Without public_url the answer follows the request's Host header: a shared cache that
    # ignored Host could hand one client's answer to everybody, so nothing may store it.
    answer.headers["Cache-Control"] = "no-store"
    return answer


ROUTES = [Route(paths.location("{app_id}"), location, methods=["GET"])]
