"""The snapshot kept without its zero pages (``server/snapshot.py`` rule 4); the boot module
(``server/pyodide_boot.mjs``) expands it as ``unpack_pages`` does."""

from __future__ import annotations

import pytest

from server import snapshot


@pytest.mark.parametrize("length", [0, 1, 4096, 4097, 3 * 4096 + 128])
def test_packing_drops_zero_pages_and_keeps_the_memory(length: int) -> None:
    memory = bytearray(length)
    for at in range(0, length, 3 * 4096):  # Every third page has data.
        memory[at] = 7
    if length:
        memory[-1] = 9  # A short last page.
    packed = snapshot.pack_pages(bytes(memory))
    assert snapshot.unpack_pages(packed) == bytes(memory)
    pages_with_data = sum(1 for at in range(0, length, 4096) if any(memory[at:at + 4096]))
    assert len(packed) == 12 + ((length + 4095) // 4096 + 7) // 8 + sum(
        min(4096, length - at) for at in range(0, length, 4096) if any(memory[at:at + 4096]))
    assert pages_with_data <= (length + 4095) // 4096


def test_a_truncated_or_foreign_snapshot_is_refused() -> None:
    packed = snapshot.pack_pages(b"\1" * 10_000)
    with pytest.raises(ValueError, match="truncated"):
        snapshot.unpack_pages(packed[:-1])
    with pytest.raises(ValueError, match="not a packed"):
        snapshot.unpack_pages(b"\0" * 4096)
