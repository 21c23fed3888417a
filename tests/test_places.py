"""Place search: the offline gazetteer, and the Google client against a local fake server."""

from __future__ import annotations

import pytest

from agent_session.config import Settings
from agent_session.tools.places.base import PlacesUnavailable
from agent_session.tools.places.factory import build_places_provider
from agent_session.tools.places.offline import OfflinePlaces

from .fakes import google_places
from .fakes.server import serve


@pytest.fixture(scope="module")
def gazetteer() -> OfflinePlaces:
    return OfflinePlaces()


def test_gazetteer_covers_four_cities_and_airports(gazetteer):
    names = gazetteer.place_names
    assert len(names) >= 200
    for airport in ("Kempegowda International Airport", "Rajiv Gandhi International Airport",
                    "Indira Gandhi International Airport",
                    "Chhatrapati Shivaji Maharaj International Airport"):
        assert airport in names


@pytest.mark.parametrize("query, best", [
    ("MG road", "MG Road"), ("M.G. Road", "MG Road"), ("mahatma gandhi road", "MG Road"),
    ("Koramangala 5th block", "Koramangala"), ("koramangala", "Koramangala"),
    ("Kempegowda International Airport", "Kempegowda International Airport"),
    ("bkc", "Bandra Kurla Complex"), ("Hitech city", "HITEC City"),
    ("connaught place", "Connaught Place"), ("Lalbagh", "Lalbagh Botanical Garden"),
    ("airport mumbai", "Chhatrapati Shivaji Maharaj International Airport"),
    ("indranagar", "Indiranagar"), ("the gateway of india", "Gateway of India"),
])
async def test_tolerant_matching(gazetteer, query, best):
    found = await gazetteer.search(query)
    assert found and found[0].name == best
    assert found[0].address.endswith("India") and found[0].lat is not None


def test_clear_winner_hides_weak_partial_matches(gazetteer):
    assert [p.name for p in gazetteer.lookup("MG road")] == ["MG Road"]


def test_the_airport_lists_airports(gazetteer):
    found = gazetteer.lookup("the airport", limit=10)
    assert len(found) >= 4 and all("Airport" in p.name for p in found)
    in_delhi = gazetteer.lookup("the airport in delhi")
    assert {p.name for p in in_delhi} <= {"Indira Gandhi International Airport",
                                         "Indira Gandhi International Airport Terminal 1"}


def test_unknown_place_finds_nothing(gazetteer):
    assert gazetteer.lookup("xyzzy plugh") == []


async def test_google_places_client_against_fake_server():
    calls: list[dict] = []
    with serve(google_places.make_app("g-key", calls)) as url:
        settings = Settings(_env_file=None, google_maps_api_key="g-key", google_places_url=url)
        provider = build_places_provider(settings)
        assert provider.name == "google"
        try:
            found = await provider.search("MG Road Bangalore")
            assert [p.name for p in found] == ["Mahatma Gandhi Road", "MG Road Metro Station"]
            assert found[0].address == "Mahatma Gandhi Rd, Bengaluru, Karnataka, India"
            assert found[0].lat == 12.9756
            assert calls[0]["body"] == {"textQuery": "MG Road Bangalore", "pageSize": 5}
            assert calls[0]["headers"]["x-goog-api-key"] == "g-key"
            assert await provider.search("nowhere at all") == []
        finally:
            await provider.close()

        wrong = build_places_provider(Settings(_env_file=None, google_maps_api_key="bad",
                                               google_places_url=url))
        try:
            with pytest.raises(PlacesUnavailable, match="HTTP 403"):
                await wrong.search("MG Road")
        finally:
            await wrong.close()


async def test_google_places_unreachable_is_a_clear_error():
    from .fakes.server import free_port

    provider = build_places_provider(Settings(
        _env_file=None, google_maps_api_key="k",
        google_places_url=f"http://127.0.0.1:{free_port()}"))
    try:
        with pytest.raises(PlacesUnavailable, match="unreachable"):
            await provider.search("MG Road")
    finally:
        await provider.close()


def test_factory_defaults_to_offline_without_a_key():
    assert build_places_provider(Settings(_env_file=None)).name == "offline"
    with pytest.raises(ValueError, match="GOOGLE_MAPS_API_KEY"):
        build_places_provider(Settings(_env_file=None, places_backend="google"))
