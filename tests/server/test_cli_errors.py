"""serve.py refuses bad command lines with one clear line, before it binds or opens anything."""

from __future__ import annotations

import pytest

import serve


@pytest.mark.parametrize(("port", "reason"), [("99999", "ports are 0 to 65535"),
                                              ("-1", "ports are 0 to 65535"),
                                              ("http", "a whole number")])
def test_a_port_out_of_range_is_refused(port: str, reason: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    # uvloop bound --port 99999 as 34463 (99999 % 65536) and said it served on :99999.
    with pytest.raises(SystemExit) as exit_info:
        serve.main(["--port", port])
    assert exit_info.value.code == 2
    assert reason in capsys.readouterr().err
