"""Place search conformance (the offline gazetteer, Google Places through its client against the
fake): best matches first within the limit, nothing for an unknown place, readiness."""

from __future__ import annotations

from agent_session.tools.places.base import Place


async def test_best_matches_first_within_the_limit(places):
    found = await places.search("MG Road", limit=2)
    assert 1 <= len(found) <= 2
    assert all(isinstance(p, Place) and p.name and p.address for p in found)
    assert "road" in f"{found[0].name} {found[0].address}".lower()
    assert set(found[0].as_dict()) >= {"name", "address"}


async def test_an_unknown_place_finds_nothing(places):
    assert await places.search("nowhere xyzzy plugh") == []


async def test_it_names_itself_and_is_ready(places):
    assert places.name
    await places.check()
