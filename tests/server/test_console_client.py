"""The admin console's Python under CPython, against a real server over loopback: its paths
match the server's, ``AdminClient`` signs in and keeps its session in the storage it is given,
refreshes once on a 401 and signs out when the refresh is refused; ``Listing`` pages by cursor
with filters and search; ``chart`` draws bars and says the same in words.

The console's browser side (``admin.html``) is tested in Chromium in
``tests/e2e/test_console.py``; these are the same modules, faster to check here.
"""

from __future__ import annotations

import asyncio
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.console import chart, paths
from app.console.client import SESSION_KEY, AdminClient, SessionEnded
from app.console.listing import Filters, Listing
from app.sdk.adapters.native import UrllibTransport
from app.sdk.http import Request, Response
from app.sdk.storage import MemoryStorage
from server.admin_api import paths as server_paths
from tests.conftest import LiveServer, make_settings, start_server

from .admin_helpers import Admin, make_admin_key

PASSWORD = "correct horse 1"
REPO = Path(__file__).resolve().parents[2]


class Spy:
    """Passes requests to the real transport and records method, path and status."""

    def __init__(self) -> None:
        self.inner = UrllibTransport(use_env_proxies=False)
        self.seen: list[tuple[str, str, int]] = []

    async def send(self, request: Request) -> Response:
        response = await self.inner.send(request)
        path = request.url.split("//", 1)[1].split("/", 1)[1].split("?")[0]
        self.seen.append((request.method, "/" + path, response.status))
        return response


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = start_server(make_settings(tmp_path_factory.mktemp("console") / "data"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def key(live: LiveServer) -> tuple[str, str]:
    record, private = make_admin_key(live.settings, "console")
    with httpx.Client(base_url=live.base_url) as http:
        admin = Admin(http, live.settings, record.public_key, private)
        # 8 email/password users; every third one disabled.
        for i in range(8):
            made = admin.post(server_paths.USERS, {"email": f"u{i}@example.com",
                                                   "password": PASSWORD})
            assert made.status_code == 201, made.text
            if i % 3 == 0:
                admin.put(server_paths.USER_DISABLE, user_id=made.json()["_id"])
    return record.public_key, private


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_the_console_paths_are_the_servers() -> None:
    for name in paths.SHARED:
        if hasattr(server_paths, name):  # the audit log's may come from another branch
            assert getattr(paths, name) == getattr(server_paths, name), name


def test_sign_in_page_filter_search_and_sign_out(live: LiveServer, key: tuple[str, str]):
    storage = MemoryStorage()

    async def story() -> None:
        client = AdminClient(live.base_url, transport=UrllibTransport(), storage=storage)
        session = await client.log_in(*key)
        assert session.client_app_id == live.app_id and session.public_key == key[0]
        assert storage.get(SESSION_KEY) is not None
        # A new client (a reload of the tab) finds the session in the same storage.
        client = AdminClient(live.base_url, transport=UrllibTransport(), storage=storage)
        assert client.session == session

        listing = Listing(page_size=3)
        seen: list[str] = []
        await listing.load(client)
        while True:
            seen += [u["_id"] for u in listing.rows]
            if not listing.forward():
                break
            await listing.load(client)
        assert len(seen) == 8 == len(set(seen)) and seen == sorted(seen)
        assert listing.page_number == 3 and len(listing.rows) == 2 and not listing.has_next
        assert listing.back()
        await listing.load(client)
        assert [u["_id"] for u in listing.rows] == seen[3:6] and listing.has_next

        listing.restart(Filters(status="disabled"), page_size=10)
        await listing.load(client)
        assert len(listing.rows) == 3 and all(u["disabled"] for u in listing.rows)
        assert listing.page_number == 1 and not listing.has_next

        listing.restart(Filters(search="U", status="enabled"))
        await listing.load(client)
        # Found by the start of the address in any case; the disabled u0, u3, u6 filtered out.
        assert sorted(u["data"]["email"] for u in listing.rows) == [
            f"u{i}@example.com" for i in (1, 2, 4, 5, 7)]
        listing.restart(Filters(search=seen[0]))
        await listing.load(client)
        assert [u["_id"] for u in listing.rows] == [seen[0]]

        await client.log_out()
        assert client.session is None and storage.get(SESSION_KEY) is None

    run(story())


def test_a_401_refreshes_once_and_a_refused_refresh_signs_out(live: LiveServer,
                                                              key: tuple[str, str]):
    spy = Spy()
    ended: list[bool] = []

    async def story() -> None:
        client = AdminClient(live.base_url, transport=spy, storage=MemoryStorage(),
                             on_signed_out=lambda: ended.append(True))
        session = await client.log_in(*key)
        # An access token the server does not take: one refresh, then the call again.
        client.session = session.with_access("not-a-token")
        spy.seen.clear()
        first, second = await asyncio.gather(client.users(limit=1), client.users(limit=2))
        assert len(first) == 1 and len(second) == 2
        refreshes = [s for s in spy.seen if s[1] == paths.SESSION]
        assert refreshes == [("POST", paths.SESSION, 201)]
        assert client.session is not None and client.session.access_token != "not-a-token"
        assert not ended

        # Both tokens dead: the refresh is refused, the console signs out, the call raises.
        client.session = client.session.with_access("dead")
        object.__setattr__(client.session, "refresh_token", "dead")
        with pytest.raises(SessionEnded):
            await client.users()
        assert ended == [True] and client.session is None

    run(story())


def test_a_bad_key_is_refused_with_401(live: LiveServer, key: tuple[str, str]):
    client = AdminClient(live.base_url, transport=UrllibTransport(), storage=MemoryStorage())
    with pytest.raises(Exception) as caught:
        run(client.log_in(key[0], "wrong"))
    assert getattr(caught.value, "status", None) == 401 and client.session is None


def test_charts_draw_every_bucket_and_say_it_in_words() -> None:
    day = 86400
    starts = [1_700_000_000 // day * day + i * day for i in range(4)]
    ins, ups = chart.Series("sign-ins", [0, 3, 7, 1]), chart.Series("sign-ups", [1, 0, 2, 0])
    tree = chart.bar_chart(starts, [ins, ups], "label", 2)
    bars = tree.find_all("rect")
    assert len(bars) == 8 and tree.attrs["role"] == "img" and tree.attrs["aria-label"] == "label"
    heights = [float(b.attrs["height"]) for b in bars if "series-0" in b.attrs["class"]]
    assert heights[0] == 0 and heights[2] == max(heights)
    assert chart.nice_top(7) == 10
    assert chart.summary(ins, starts, "4 days") == (
        f"11 sign-ins in the last 4 days; the most, 7, at {chart.day_label(starts[2])}.")
    assert chart.summary(chart.Series("failed logins", [0, 0]), starts, "2 hours") == (
        "No failed logins in the last 2 hours.")
    assert chart.table_rows(starts, [ins, ups])[2] == [chart.day_label(starts[2]), "7", "2"]


def test_the_console_page_and_its_config_made_from_the_app_tree(live: LiveServer):
    with httpx.Client(base_url=live.base_url) as http:
        for url in ("/admin", "/admin.html"):
            page = http.get(url)
            assert page.status_code == 200 and 'config="/admin.json"' in page.text
            policy = dict(part.strip().split(" ", 1) for part in
                          page.headers["content-security-policy"].split(";"))
            # No pictures from anywhere else on the console; the rest as on the other pages.
            assert policy["img-src"] == "'self'" and policy["connect-src"] == "'self'"
            assert page.headers["referrer-policy"] == "no-referrer"
        config = http.get("/admin.json").json()
    page_config = tomllib.loads((REPO / "pyscript.toml").read_text())
    assert config["interpreter"] == page_config["interpreter"] == "/vendor/latchkey-boot.mjs"
    assert config["plugins"] == page_config["plugins"] and "packages" not in config
    # Every module the console may import, whatever the SDK holds today; never the CPython
    # adapter, and not the page's own script.
    wanted = {p.relative_to(REPO).as_posix() for pattern in ("app/sdk/**/*.py", "app/console/*.py")
              for p in REPO.glob(pattern) if "__pycache__" not in p.parts}
    wanted = (wanted | {"app/__init__.py"}) - {"app/sdk/adapters/native.py",
                                               "app/console/main.py"}
    assert config["files"] == {f"/{rel}": f"./{rel}" for rel in wanted}
