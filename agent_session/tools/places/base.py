"""The place-search protocol the `search_places` action runs on."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

from ...errors import ServiceError


class PlacesUnavailable(ServiceError):
    """The place search backend failed; shown to the model as an observation."""

    status_code = 503


@dataclass(frozen=True)
class Place:
    name: str
    address: str
    lat: float | None = None
    lng: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class PlacesProvider(Protocol):
    name: str

    async def search(self, text_query: str, limit: int = 5) -> list[Place]:
        """Best matches first; an empty list when nothing matches."""
        ...

    async def check(self) -> None: ...

    async def close(self) -> None: ...
