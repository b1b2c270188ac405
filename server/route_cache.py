"""``RouteCache``: Starlette's routing, with a memory of which route answers a method and path.

Starlette's router tries its routes in order, a regular expression each, until one matches in
full: the profile route is the 17th of about 100, and the tries were a fifth of the app's CPU time
for a profile request. The cache remembers the route that matched a method and path in full and
tries it first; everything else (no route, a method not allowed, a redirect for a slash, the
lifespan) goes to the router as before.

Rule 1: the answer is the router's. A route's match depends only on the path, the root path and
the method (the app has no ``Host`` routes; ``install`` refuses a router with any), so the route
that matched in full once is the first to match in full every time; it is matched again, so its
path parameters are the request's own. A change to the route list empties the cache.

Rule 2: memory is bounded: at most ``MAX_ENTRIES`` paths of at most ``MAX_PATH`` characters,
emptied when full (paths with parameters are client input: an attacker varying them only sends
everyone back to the plain search for a moment).

It imports Starlette only.
"""

from __future__ import annotations

from starlette.routing import Host, Match, Router
from starlette.types import Receive, Scope, Send

MAX_ENTRIES = 1024
MAX_PATH = 512


class RouteCache:
    """The router's ``app`` with the route cache in front (``install`` puts it in place)."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self._found: dict[tuple[str, str, str], object] = {}
        self._version: tuple[int, int] = (0, 0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        router = self.router
        if scope["type"] != "http":
            await router.app(scope, receive, send)
            return
        routes = router.routes
        version = (id(routes), len(routes))
        if version != self._version:
            self._found.clear()
            self._version = version
        path = scope["path"]
        key = (scope["method"], path, scope.get("root_path", ""))
        route = self._found.get(key)
        if route is None:
            for candidate in routes:
                if candidate.matches(scope)[0] is Match.FULL:
                    route = candidate
                    break
            if route is None:
                await router.app(scope, receive, send)  # 404, 405, redirects: the router's.
                return
            if len(path) <= MAX_PATH:
                if len(self._found) >= MAX_ENTRIES:
                    self._found.clear()
                self._found[key] = route
        match, child_scope = route.matches(scope)  # type: ignore[attr-defined]
        if match is not Match.FULL:  # Never seen; the router decides if it happens.
            await router.app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = router
        scope["route"] = route
        scope.update(child_scope)
        await route.handle(scope, receive, send)  # type: ignore[attr-defined]


def install(router: Router) -> None:
    """Put the cache in front of a router that has no middleware of its own and no hosts."""
    if router.middleware_stack != router.app:
        raise ValueError("The router has middleware of its own; the cache would skip it.")
    if any(isinstance(route, Host) for route in router.routes):
        raise ValueError("Host routes match on the Host header; the cache keys on the path.")
    router.middleware_stack = RouteCache(router)
