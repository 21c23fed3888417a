"""Builds the configured place search from `PLACES_BACKEND`."""

from __future__ import annotations

from ...config import Settings
from ...errors import ConfigurationError
from .base import PlacesProvider


def build_places_provider(settings: Settings) -> PlacesProvider:
    backend = settings.places_backend
    if backend == "auto":
        backend = "google" if settings.google_maps_api_key is not None else "offline"
    if backend == "google":
        if settings.google_maps_api_key is None:
            raise ConfigurationError("PLACES_BACKEND=google needs GOOGLE_MAPS_API_KEY.")
        from .google import GooglePlaces

        return GooglePlaces(settings.google_maps_api_key.get_secret_value(),
                            settings.google_places_url)
    from .offline import OfflinePlaces

    return OfflinePlaces()


def place_vocabulary(provider: PlacesProvider | None = None) -> list[str]:
    """Place names the agent knows (the bundled gazetteer's), as a hint for speech recognition;
    reuses `provider` when it is the gazetteer, so start-up reads the file once."""
    from .offline import OfflinePlaces

    return (provider if isinstance(provider, OfflinePlaces) else OfflinePlaces()).place_names
