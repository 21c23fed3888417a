"""Offline place search over the gazetteer shipped in the package (no network, no key).

Matching is tolerant: case, punctuation and abbreviations are folded ("M.G. road" = "MG Road"),
aliases count ("BKC"), a city named in the query narrows the search, sub-localities match their
area ("Koramangala 5th block"), and a bare kind ("the airport") lists places of that kind.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from rapidfuzz import fuzz, process

from .base import Place

_CITIES = {
    "bengaluru": "Bengaluru", "bangalore": "Bengaluru", "blr": "Bengaluru",
    "mumbai": "Mumbai", "bombay": "Mumbai", "hyderabad": "Hyderabad", "secunderabad": "Hyderabad",
    "delhi": "Delhi", "new delhi": "Delhi",
}
_KINDS = {
    "airport": "airport", "the airport": "airport", "railway station": "station",
    "train station": "station", "station": "station", "mall": "mall", "hospital": "hospital",
}
_STOP = re.compile(r"\b(the|near|nearby|at|in|to|from|a|an|please|city of)\b")
_ABBREVIATIONS = [(re.compile(r"\brd\b"), "road"), (re.compile(r"\bintl\b"), "international"),
                  (re.compile(r"\bstn\b"), "station"), (re.compile(r"\bblvd\b"), "boulevard")]
MIN_SCORE = 80
CLOSE_RUNNERS_UP = 8


def normalize(text: str) -> str:
    text = text.lower().replace("&", " and ").replace("'", "")
    text = re.sub(r"(?<=\b[a-z])\.(?=\s*[a-z]\b)", "", text)  # M.G. -> MG
    text = re.sub(r"[^a-z0-9]+", " ", text)
    for pattern, full in _ABBREVIATIONS:
        text = pattern.sub(full, text)
    text = re.sub(r"\b([a-z]) ([a-z])\b", r"\1\2", text)  # "m g road" -> "mg road"
    return " ".join(text.split())


@dataclass(frozen=True)
class _Entry:
    place: Place
    city: str
    kind: str


class OfflinePlaces:
    name = "offline"

    def __init__(self, path: Path | None = None) -> None:
        source = path or resources.files("agent_session") / "data" / "gazetteer.csv"
        self._entries: list[_Entry] = []
        self._keys: list[str] = []
        self._owner: list[int] = []
        with source.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                place = Place(
                    name=row["name"],
                    address=f"{row['name']}, {row['city']}, India",
                    lat=float(row["lat"]),
                    lng=float(row["lng"]),
                )
                self._entries.append(_Entry(place, row["city"], row["kind"]))
                names = [row["name"], *filter(None, (row["aliases"] or "").split(";"))]
                for key in names:
                    self._keys.append(normalize(key))
                    self._owner.append(len(self._entries) - 1)

    @property
    def place_names(self) -> list[str]:
        """Every name the gazetteer knows (a vocabulary hint for speech recognition)."""
        return [entry.place.name for entry in self._entries]

    def _city_filter(self, query: str) -> tuple[str, str | None]:
        for word, city in sorted(_CITIES.items(), key=lambda kv: -len(kv[0])):
            pattern = re.compile(rf"\b{word}\b")
            if pattern.search(query):
                rest = " ".join(pattern.sub(" ", query).split())
                return (rest or query), city
        return query, None

    def lookup(self, text_query: str, limit: int = 5) -> list[Place]:
        query = normalize(text_query)
        query, city = self._city_filter(query)
        stripped = " ".join(_STOP.sub(" ", query).split()) or query
        allowed = [i for i, e in enumerate(self._entries) if city is None or e.city == city]
        kind = _KINDS.get(stripped) or _KINDS.get(query)
        if kind is not None:
            of_kind = [self._entries[i].place for i in allowed if self._entries[i].kind == kind]
            return of_kind[:limit]
        allowed_set = set(allowed)
        choices = {k: key for k, key in enumerate(self._keys) if self._owner[k] in allowed_set}
        hits = process.extract(stripped, choices, scorer=fuzz.token_set_ratio, limit=limit * 4,
                               score_cutoff=MIN_SCORE)
        ranked: dict[int, float] = {}
        for key, score, k in hits:
            owner = self._owner[k]
            bonus = 5 if key == stripped else 0
            if stripped.startswith(key) or key.startswith(stripped):
                bonus += 3
            ranked[owner] = max(ranked.get(owner, 0), score + bonus)
        best = sorted(ranked.items(), key=lambda kv: -kv[1])[:limit]
        # A clear winner hides weak partial matches ("MG Road" should not offer "Brigade Road").
        top = best[0][1] if best else 0
        return [self._entries[i].place for i, score in best if score >= top - CLOSE_RUNNERS_UP]

    async def search(self, text_query: str, limit: int = 5) -> list[Place]:
        return self.lookup(text_query, limit)

    async def check(self) -> None:
        return None

    async def close(self) -> None:
        return None
