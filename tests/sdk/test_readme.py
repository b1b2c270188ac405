"""The README's SDK example runs, unchanged, against a live server."""

from __future__ import annotations

import re
from pathlib import Path

from .runner import run

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- sdk-example -->\s*```python\n(.*?)```\s*<!-- /sdk-example -->",
                      text, re.S)
    assert match, "README.md lost its SDK example markers"
    return match.group(1)


def test_readme_sdk_example_runs(live_server, capsys):
    code = readme_example()
    assert 'asyncio.run(main("http://127.0.0.1:8000"))' in code
    namespace: dict = {"__name__": "readme_example"}
    exec(compile(code.replace('asyncio.run(main("http://127.0.0.1:8000"))', ""), "README.md",
                 "exec"), namespace)
    run(namespace["main"](live_server.base_url))
    assert "local-userpass" in capsys.readouterr().out
