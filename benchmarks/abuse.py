"""What an attacker gets out of the login limits, and what each attempt costs the server.

``serve.py`` with the demo config's limits (the shipped defaults) runs in its own process and
trusts ``X-Forwarded-For`` from loopback, so one load generator can speak for many client
addresses, as a botnet would. Phases, each bounded by ``seconds``:

- reference: wrong passwords that no limit refuses (every attempt from a new address, for a new
  email): guesses per second the server verifies flat out, and its CPU per argon2 verify;
- one address, one account: how many guesses get through (``login_failures_per_account``);
- one address, many accounts (credential stuffing): ``login_attempts_per_address``;
- refused attempts: the server's CPU for each 429, against the verify's;
- many addresses, one account (a botnet): the account's slow-down.

It prints each figure beside the reference measured in the same run. A measurement, not a test.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from server.settings import SecuritySettings

from .common import APP_ID, REPO, free_port

API = f"/api/client/v2.0/app/{APP_ID}"
LOGIN = f"{API}/auth/providers/local-userpass/login"
REGISTER = f"{API}/auth/providers/local-userpass/register"
VICTIM, PASSWORD = "victim@example.com", "the owner's password"
BOTNET_VICTIM = "botnet-victim@example.com"
_addresses = (f"10.{a}.{b}.{c}" for a in range(1, 255) for b in range(256)
              for c in range(1, 255))
_emails = (f"stuffed{n}@example.com" for n in itertools.count())


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def serve(data_dir: Path) -> Iterator[Server]:
    """``serve.py`` on the demo config, trusting forwarded addresses from loopback."""
    port = free_port()
    args = [sys.executable, "serve.py", "--port", str(port), "--data-dir", str(data_dir),
            "--forwarded-allow-ips", "127.0.0.1"]
    log = (data_dir / "server.log").open("wb")
    process = subprocess.Popen(args, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{server.base_url}{API}/location", timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"serve.py did not start; see {log.name}") from None
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@dataclass
class Tally:
    """Attempts of one phase: guesses the server checked (401), refusals (429), time and CPU."""

    checked: int = 0
    refused: int = 0
    seconds: float = 0.0
    cpu: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {"checked": self.checked, "refused": self.refused,
                "seconds": round(self.seconds, 3), "cpu_seconds": round(self.cpu, 3)}


def attempt(http: httpx.Client, email: str, address: str, tally: Tally) -> None:
    body = {"username": email, "password": "a guess", "options": {"device": {}}}
    resp = http.post(LOGIN, json=body, headers={"X-Forwarded-For": address})
    if resp.status_code == 401:
        tally.checked += 1
    elif resp.status_code == 429:
        tally.refused += 1
    else:
        raise RuntimeError(f"unexpected answer {resp.status_code}: {resp.text}")


def phase(server: Server, http: httpx.Client, targets: Iterator[tuple[str, str]], *,
          seconds: float, refusals: int | None = None, most: int | None = None) -> Tally:
    """Attempts one after another until ``seconds`` pass, ``refusals`` 429s came back or
    ``most`` attempts were made, whichever is first."""
    tally = Tally()
    cpu, start = server.cpu_seconds(), time.monotonic()
    for n, (email, address) in enumerate(targets):
        if time.monotonic() - start >= seconds or (most is not None and n >= most) or \
                (refusals is not None and tally.refused >= refusals):
            break
        attempt(http, email, address, tally)
    tally.seconds, tally.cpu = time.monotonic() - start, server.cpu_seconds() - cpu
    return tally


def _forever(make: Any) -> Iterator[tuple[str, str]]:
    return (make() for _ in itertools.count())


def run(seconds: float = 4.0) -> dict[str, Any]:
    """Every phase on one fresh server; the raw tallies and the derived figures.

    ``seconds`` bounds the reference and the botnet phase (three times it); the limit phases
    stop at their first refusals (at most 60 s each, on a very slow machine).
    """
    cap = 60.0
    with tempfile.TemporaryDirectory(prefix="latchkey-abuse-") as tmp, serve(Path(tmp)) as srv, \
            httpx.Client(base_url=srv.base_url, timeout=60) as http:
        for email in (VICTIM, BOTNET_VICTIM):
            http.post(REGISTER, json={"email": email, "password": PASSWORD},
                      headers={"X-Forwarded-For": next(_addresses)}).raise_for_status()
        reference = phase(srv, http, _forever(lambda: (next(_emails), next(_addresses))),
                          seconds=seconds)
        one = next(_addresses)
        single = phase(srv, http, _forever(lambda: (VICTIM, one)), seconds=cap, refusals=20)
        stuffer = next(_addresses)
        stuffing = phase(srv, http, _forever(lambda: (next(_emails), stuffer)), seconds=cap,
                         refusals=20)
        refused = phase(srv, http, _forever(lambda: (next(_emails), stuffer)), seconds=cap,
                        most=300)
        botnet = phase(srv, http, _forever(lambda: (BOTNET_VICTIM, next(_addresses))),
                       seconds=3 * seconds)
    return _figures({"reference": reference, "one_address_one_account": single,
                     "one_address_many_accounts": stuffing, "refused": refused,
                     "many_addresses_one_account": botnet})


def _figures(tallies: dict[str, Tally]) -> dict[str, Any]:
    ref = tallies["reference"]
    verify_cpu = ref.cpu / ref.checked if ref.checked else None
    refused = tallies["refused"]
    refused_cpu = refused.cpu / refused.refused if refused.refused else None
    security = SecuritySettings()
    window = security.rate_window_seconds
    return {
        "phases": {name: t.as_dict() for name, t in tallies.items()},
        "verified_per_second": ref.checked / ref.seconds if ref.seconds else None,
        "cpu_ms_per_verify": None if verify_cpu is None else verify_cpu * 1000,
        "cpu_ms_per_refusal": None if refused_cpu is None else refused_cpu * 1000,
        "refusals_per_second": refused.refused / refused.seconds if refused.seconds else None,
        # What the limits allow in the long run (the defaults), for the figures measured above.
        "sustained_per_second": {
            "one_address_one_account": security.login_failures_per_account / window,
            "one_address_many_accounts": security.login_attempts_per_address / window,
            "many_addresses_one_account": _paced_per_day(security) / 86400,
        },
        "paced_per_day": _paced_per_day(security),
    }


def _paced_per_day(security: SecuritySettings) -> float:
    """Guesses per day on one account from new devices, with the slow-down at its longest."""
    span, waited, guesses = security.login_slowdown_window_seconds, 0.0, 0
    while True:
        wait = min(2.0 ** guesses, security.login_max_delay_seconds)
        if waited + wait > span:
            break
        waited, guesses = waited + wait, guesses + 1
    return (security.login_slowdown_after + guesses) * 86400 / span


def report(data: dict[str, Any]) -> list[str]:
    """Lines for the run summary."""
    p, sustained = data["phases"], data["sustained_per_second"]
    rate = data["verified_per_second"] or 0.0

    def line(name: str, label: str) -> str:
        t, per_second = p[name], sustained[name]
        ratio = f"1/{rate / per_second:,.0f}" if per_second and rate else "n/a"
        return (f"  {label:<34} {t['checked']:3d} guesses checked, then {t['refused']:3d} "
                f"refused ({t['seconds']:4.1f} s); long run {per_second * 3600:7.1f}/h "
                f"({ratio} of the reference)")

    verify, refusal = data["cpu_ms_per_verify"], data["cpu_ms_per_refusal"]
    ratio = f"1/{verify / refusal:.0f}" if verify and refusal else "n/a"
    return [
        "Abuse (serve.py, default limits, client addresses from X-Forwarded-For):",
        f"  reference: {rate:.1f} wrong passwords/s verified with no limit in the way, "
        f"{verify or 0:.1f} ms CPU each",
        line("one_address_one_account", "one address, one account"),
        line("one_address_many_accounts", "one address, many accounts"),
        line("many_addresses_one_account", "new address every try, one account"),
        f"  a refused attempt: {refusal or 0:.2f} ms CPU ({ratio} of a verify); "
        f"{data['refusals_per_second'] or 0:.0f} refusals/s on one connection",
    ]
