"""JavaScript functions beside Python ones: the same trivial function (``translate``, the
official SDK tests' function) written in both languages, called over HTTP with ``wrk`` at 1, 16
and 64 connections on one server process; and the JavaScript engine alone, in this process
(a worker's first-call cost: engine and globals; then calls per second without HTTP or pipes).

    .venv/bin/python -m benchmarks.run --only jsfunctions

Target (issue 13): a trivial JavaScript function >= 1,000 calls/s at 16 connections.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from .common import server_process, verdict
from .throughput import API, APP_ID, Call, _at, _measure, _seed

TARGET = 1000.0
TARGET_CONNECTIONS = 16
TRANSLATE_JS = """\
// The demo's translate, as an App Services function.
const TRANSLATIONS = { "hello en_fr": "bonjour", "goodbye en_fr": "au revoir",
                       "bonjour fr_en": "hello", "au revoir fr_en": "goodbye" };
exports = function (text, pair) {
  const found = TRANSLATIONS[`${text} ${pair}`];
  if (found === undefined) throw new Error(`no translation of ${text} for ${pair}`);
  return found;
};
"""


def engine_figures(source: Path, calls: int = 5000) -> dict[str, Any]:
    """The engine in this process: first call (engine, globals, source) and calls per second."""
    from server.runtime.engines import Engines

    class Context:
        user = None

        def ask(self, method: str, *args: Any) -> Any:
            return None

    app = json.dumps({"functions": {"translate": [str(source), False]}, "values": "{}"})
    started = time.perf_counter()
    engines = Engines("", app, 512 << 20)
    fn = engines.lookup("translate", public=True)
    first = engines.run(fn, Context(), ["hello", "en_fr"])
    first_ms = (time.perf_counter() - started) * 1000
    assert first == "bonjour"
    started = time.perf_counter()
    for _ in range(calls):
        engines.run(fn, Context(), ["hello", "en_fr"])
    per_s = calls / (time.perf_counter() - started)
    return {"first_call_ms": round(first_ms, 1), "calls_per_s": round(per_s)}


def run(*, seconds: float = 4.0, levels: list[int] | None = None) -> dict[str, Any]:
    """Run the benchmark; the figures as a dict."""
    levels = levels or [1, 16, 64]
    results: dict[str, Any] = {"seconds_per_run": seconds, "levels": levels, "calls": {},
                               "load_average_before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="latchkey-bench-js-") as tmp:
        work = Path(tmp)
        source = work / "translate.js"
        source.write_text(TRANSLATE_JS)
        results["engine"] = engine_figures(source)
        overrides = work / "overrides.json"
        overrides.write_text(json.dumps({"js_functions": {"translateJs": {"source": str(source)}}}))
        previous = os.environ.get("BENCH_SERVER_ARGS")
        os.environ["BENCH_SERVER_ARGS"] = f"{previous or ''} --overrides {overrides}"
        try:
            with server_process(work / "data") as server:
                seed = _seed(server.base_url, users=200, accounts=0)
                path = f"{API}/app/{APP_ID}/functions/call"
                for name, function in (("python", "translate"), ("javascript", "translateJs")):
                    body = json.dumps({"name": function, "arguments": ["hello", "en_fr"]})
                    call = Call(name, "POST", path,
                                [(s["access_token"], body) for s in seed["sessions"]])
                    print(f"  jsfunctions: {name} ...", flush=True)
                    results["calls"][name] = _measure(server, call, work, levels, seconds)
        finally:
            if previous is None:
                os.environ.pop("BENCH_SERVER_ARGS", None)
            else:
                os.environ["BENCH_SERVER_ARGS"] = previous
    results["load_average_after"] = os.getloadavg()
    return results


def report(results: dict[str, Any]) -> list[str]:
    """Lines to print: the table, the engine alone, and the target."""
    levels = results["levels"]
    head = ("  language     " + "".join(f"| c={c:<3} calls/s    p50    p99 " for c in levels)
            + "| CPU/call at c=16")
    lines = ["Function calls, Python and JavaScript (wrk on loopback, one server process; "
             "latencies in ms)", head]
    for name in results["calls"]:
        cells = ""
        for c in levels:
            r = _at(results, name, c)
            err = "!" if r["errors"] else " "
            cells += f"| {r['rps']:11.0f}{err} {r['p50_ms']:6.1f} {r['p99_ms']:6.1f} "
        cpu = _at(results, name, TARGET_CONNECTIONS)["cpu_us_per_request"]
        lines.append(f"  {name:<12} {cells}| {cpu:6d} us")
    engine = results["engine"]
    lines.append(f"  JavaScript engine alone (QuickJS, in-process): first call "
                 f"{engine['first_call_ms']} ms (engine, globals, source), then "
                 f"{engine['calls_per_s']:,} calls/s")
    js = _at(results, "javascript", TARGET_CONNECTIONS)
    ok = js["rps"] >= TARGET and js["errors"] == 0
    lines.append(f"  trivial JavaScript function at c={TARGET_CONNECTIONS}: {js['rps']:.0f} "
                 f"calls/s (target >= {TARGET:.0f}): {verdict(ok)}")
    before, after = results["load_average_before"][0], results["load_average_after"][0]
    lines.append(f"  load average {before:.1f} before, {after:.1f} after, on "
                 f"{os.cpu_count()} cores")
    return lines
