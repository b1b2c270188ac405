"""Social login over HTTP: the redirect flow's two ends, and the list of enabled providers.

- ``GET .../auth/providers/{provider}/login?state=&redirect=&device=`` answers 302 to the
  provider; with ``providerRedirectHeader=true`` (realm-web's linking request) it answers 200
  with the provider URL in ``X-BAAS-Location`` instead, since a script cannot read a redirect.
- ``GET|POST /api/client/v2.0/auth/callback`` is where providers send the browser back (Apple
  posts a form); it answers 303 to the app's ``redirect`` URL with the ``_baas_*`` fragment.
  The first answer sets the flow's binding cookie, which only the callback path ever sees; the
  callback refuses a browser without it and clears it (``oauth_redirect`` Rule 4).
- ``GET .../app/{app_id}/auth/providers`` lists the enabled providers for a login page
  (Latchkey's own route; App Services has none for clients).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from app.sdk import routes as paths

from ..oauth_settings import social_kind
from ..services import oauth_redirect, providers, ratelimit, sessions
from .common import check_app, client_address, json_ok, read_body, services_of

REDIRECT_LOCATION = "X-BAAS-Location"
_NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
_MAX_PROVIDER = 64


async def redirect_login(request: Request) -> Response:
    """``GET .../login``: start the redirect flow (or a link, with ``link=true``)."""
    services = check_app(request)
    name = str(request.path_params["provider"])[:_MAX_PROVIDER]
    if social_kind(name) is None:
        # Only social providers log in by redirect; the others keep their POST-only answer.
        raise HTTPException(405, headers={"Allow": "POST"})
    # Each start keeps a state record in the store; each callback exchanges a code with the
    # provider: both count as logins of the client address.
    await ratelimit.login_attempt(services, client_address(request))
    query = request.query_params
    caller = None
    if query.get("link", "").lower() == "true":
        caller = await sessions.check_access(services, request.headers.get("authorization"))
    base = services.settings.public_url or f"{request.url.scheme}://{request.url.netloc}"
    url, binding = await oauth_redirect.start(
        services, name, client_state=query.get("state"), redirect=query.get("redirect"),
        device=query.get("device"), callback_url=base.rstrip("/") + paths.oauth_callback(),
        caller=caller,
    )
    answer: Response
    if query.get("providerRedirectHeader", "").lower() == "true":
        answer = Response(status_code=200, headers={REDIRECT_LOCATION: url, **_NO_STORE})
    else:
        answer = RedirectResponse(url, status_code=302, headers=_NO_STORE)
    _set_binding(answer, binding)
    return answer


async def callback(request: Request) -> Response:
    """``GET|POST /auth/callback``: finish the flow and send the browser back to the app."""
    services = services_of(request)
    await ratelimit.login_attempt(services, client_address(request))
    params = dict(request.query_params)
    if request.method == "POST":
        # response_mode=form_post (Apple): the answer is an urlencoded form body.
        params.update(parse_qsl((await read_body(request)).decode("utf-8", "replace")))
    url = await oauth_redirect.finish(services, params, dict(request.cookies))
    answer = RedirectResponse(url, status_code=303, headers=_NO_STORE)
    # The flow is over: the browser forgets its cookie (an unfinished one expires with it).
    path = request.url.path
    _set_binding(answer, oauth_redirect.BrowserBinding(
        oauth_redirect.binding_name(params.get("state", "")), path=path,
        secure=request.url.scheme == "https"))
    return answer


def _set_binding(answer: Response, binding: oauth_redirect.BrowserBinding) -> None:
    answer.set_cookie(binding.name, binding.value, max_age=binding.max_age, path=binding.path,
                      secure=binding.secure, httponly=True,
                      samesite=binding.same_site)


async def provider_list(request: Request) -> Response:
    """``GET .../auth/providers``: ``[{name, type, display_name?}]`` of the enabled providers."""
    return json_ok(providers.enabled(check_app(request)))


_APP = "{app_id}"
ROUTES = [
    Route(paths.login(_APP, "{provider}"), redirect_login, methods=["GET"]),
    Route(paths.oauth_callback(), callback, methods=["GET", "POST"]),
    Route(paths.providers(_APP), provider_list, methods=["GET"]),
]
