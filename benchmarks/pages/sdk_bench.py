"""The round-trip steps of benchmarks/roundtrips.py for our SDK, in Pyodide (one SDK call each)."""

import asyncio
import json

import js

from app.sdk import App, Credentials
from app.sdk.adapters.browser import FetchTransport, LocalStorage

# Built at load, as a page does: the App restores the stored users from localStorage.
app = App("latchkey-demo", base_url=str(js.location.origin), transport=FetchTransport(),
          storage=LocalStorage())


async def step(name, args_json):
    args = json.loads(args_json)
    if name == "locate":
        await app._fetcher.location_url()  # Private: only to separate discovery from the rest.
        return "{}"
    if name == "login":
        user = await app.log_in(Credentials.email_password(args["email"], args["password"]))
        return json.dumps({"user_id": user.id})
    if name == "users":
        current = app.current_user
        return json.dumps({"current": current.id if current else None,
                           "all": [u.id for u in app.all_users]})
    if name == "switch":
        app.switch_user(next(u for u in app.all_users if u.id == args["user_id"]))
        return "{}"
    if name == "call":
        user = app.current_user
        results = await asyncio.gather(
            *(user.functions.translate("hello", "en_fr") for _ in range(args["n"])))
        return json.dumps({"results": list(results)})
    raise ValueError(f"unknown step {name}")
