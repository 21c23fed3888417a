"""Google Places API (New) text search over httpx, as the original service used."""

from __future__ import annotations

import httpx

from .base import Place, PlacesUnavailable

FIELD_MASK = "places.displayName,places.formattedAddress,places.location"


class GooglePlaces:
    name = "google"

    def __init__(self, api_key: str, base_url: str, timeout: float = 10.0) -> None:
        self._key = api_key
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout)

    async def search(self, text_query: str, limit: int = 5) -> list[Place]:
        try:
            response = await self._client.post(
                "/v1/places:searchText",
                json={"textQuery": text_query, "pageSize": limit},
                headers={"X-Goog-Api-Key": self._key, "X-Goog-FieldMask": FIELD_MASK},
            )
        except httpx.HTTPError as exc:
            raise PlacesUnavailable(
                f"Place search is unreachable ({type(exc).__name__}); ask the user for the "
                "full address instead."
            ) from None
        if response.status_code != 200:
            raise PlacesUnavailable(
                f"Place search answered HTTP {response.status_code}; ask the user for the full "
                "address instead."
            )
        places = []
        for item in response.json().get("places", [])[:limit]:
            location = item.get("location") or {}
            name = (item.get("displayName") or {}).get("text") or item.get("formattedAddress", "")
            places.append(Place(name=name, address=item.get("formattedAddress", name),
                                lat=location.get("latitude"), lng=location.get("longitude")))
        return places

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        await self._client.aclose()
