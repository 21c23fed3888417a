"""Store conformance, listing: newest first, per user or for all, keyset cursors."""

from __future__ import annotations

import pytest

from .sessions import new_session, put


async def test_list_pagination_newest_first(store, clock):
    for i in range(7):
        await put(store, new_session(clock, f"s{i}", user="a" if i % 2 == 0 else "b"))
        clock.advance(1)
    seen, cursor = [], None
    while True:
        page, cursor = await store.list("a", 2, cursor)
        seen += [s.session_id for s in page]
        if cursor is None:
            break
    assert seen == ["s6", "s4", "s2", "s0"]
    everyone = (await store.list(None, 100, None))[0]
    assert [s.session_id for s in everyone] == [f"s{i}" for i in reversed(range(7))]
    with pytest.raises(ValueError):
        await store.list(None, 2, "not-a-cursor")
