"""``CoalescingTransport``: a response's head goes out with its body in one write, a head alone
goes out at the end of the loop's step, and closing sends what is held (a recording transport
stands in for the socket: this is the transport edge)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from server.http_coalesce import CoalescingTransport

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class Recorder:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def _wrap() -> tuple[Recorder, CoalescingTransport]:
    recorder = Recorder()
    loop = asyncio.get_running_loop()
    return recorder, CoalescingTransport(cast(Any, recorder), loop)


def test_head_and_body_are_one_write() -> None:
    async def scenario() -> None:
        recorder, transport = _wrap()
        transport.write(HEAD)
        assert recorder.writes == []
        transport.write(b"{}")
        assert recorder.writes == [HEAD + b"{}"]
        await asyncio.sleep(0)
        assert recorder.writes == [HEAD + b"{}"]
        transport.write(b"not a head")
        assert recorder.writes[-1] == b"not a head"

    asyncio.run(scenario())


def test_a_head_alone_goes_at_the_end_of_the_step() -> None:
    async def scenario() -> None:
        recorder, transport = _wrap()
        transport.write(HEAD)
        await asyncio.sleep(0)
        assert recorder.writes == [HEAD]
        transport.write(b"chunk")
        assert recorder.writes == [HEAD, b"chunk"]

    asyncio.run(scenario())


def test_close_sends_what_is_held_first() -> None:
    async def scenario() -> None:
        recorder, transport = _wrap()
        transport.write(HEAD)
        transport.close()
        assert recorder.writes == [HEAD] and recorder.closed
        assert transport.is_closing()

    asyncio.run(scenario())
