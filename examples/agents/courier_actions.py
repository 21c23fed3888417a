"""Actions of the courier-pickup agent (courier.yaml) for NorthRun Couriers, Manchester.

The service imports these by path (``courier_actions:check_pickup_area`` and so on; this file
sits beside the agent file, whose folder is importable) and calls each as
``f(arguments, ctx) -> dict``. A returned ``{"error": ...}`` refuses the caller's value: the
error is said and the slot's question asked again. Otherwise the slot takes the field that the
agent file's ``value`` names (``address``, ``destination``, ``time``).

No network, no state: the rules below are the dispatch desk's own.
"""

from __future__ import annotations

import re
from typing import Any

# --------------------------------------------------------------------------------------------
# Where we collect: Greater Manchester.

# Towns and districts our drivers collect from (whole words, any case).
PICKUP_AREAS: tuple[str, ...] = (
    "manchester", "salford", "stockport", "trafford", "oldham", "bolton", "bury", "rochdale",
    "wigan", "tameside", "ashton-under-lyne", "ashton under lyne", "stretford", "sale",
    "altrincham", "urmston", "didsbury", "chorlton", "withington", "fallowfield", "rusholme",
    "levenshulme", "ancoats", "hulme", "moss side", "cheetham hill", "prestwich", "whitefield",
    "radcliffe", "eccles", "swinton", "walkden", "worsley", "irlam", "cheadle", "bramhall",
    "hazel grove", "marple", "hyde", "denton", "stalybridge", "dukinfield", "droylsden",
    "middleton", "heywood", "leigh", "atherton", "hindley", "horwich", "farnworth",
    "wythenshawe", "trafford park", "salford quays", "media city",
)

# Towns callers often name that are outside the pickup area (for a clearer refusal).
OUTSIDE_TOWNS: tuple[str, ...] = (
    "liverpool", "leeds", "sheffield", "london", "birmingham", "preston", "blackburn",
    "burnley", "chester", "warrington", "huddersfield", "bradford", "halifax", "wakefield",
    "york", "hull", "newcastle", "sunderland", "nottingham", "derby", "leicester", "stoke",
    "crewe", "macclesfield", "wilmslow", "knutsford", "lancaster", "blackpool", "southport",
    "st helens", "widnes", "runcorn", "glasgow", "edinburgh", "cardiff", "bristol",
)

# A full UK postcode ("M3 2BW", "sk1 1es") and, for our own areas, an outward code alone ("M3").
_POSTCODE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?)\s*(\d[A-Z]{2})\b", re.IGNORECASE)
_GM_OUTWARD_ALONE = re.compile(r"\b(M|OL|BL|WN|SK|WA)(\d{1,2})\b", re.IGNORECASE)
_OUTWARD_PARTS = re.compile(r"([A-Z]{1,2})(\d{1,2})[A-Z]?", re.IGNORECASE)

# "Manchester Road", "London Rd", "Bury New Road" name streets, not towns: dropped before
# looking for a town.
_STREET_NAME = re.compile(
    r"\b[\w'-]+\s+(?:road|rd|street|st|lane|ln|avenue|ave|way|drive|close|crescent|terrace|"
    r"row|walk|gate|boulevard)\b\.?",
    re.IGNORECASE,
)


def _gm_outward(area: str, district: int) -> bool:
    """Whether an outward code (area letters, district number) is one we collect from."""
    area = area.upper()
    if area in ("M", "OL", "BL"):
        return True
    if area == "WN":
        return 1 <= district <= 8
    if area == "SK":
        return 1 <= district <= 8 or 14 <= district <= 16
    if area == "WA":
        return district in (3, 13, 14, 15)
    return False


def _tidy(text: str) -> str:
    """Collapse spaces, drop stray punctuation at the ends, write postcodes in capitals."""
    text = re.sub(r"\s+", " ", text).strip(" ,.;:")
    return _POSTCODE.sub(lambda m: f"{m.group(1).upper()} {m.group(2).upper()}", text)


def _find_word(words: str, names: tuple[str, ...]) -> str | None:
    for name in names:
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", words):
            return name
    return None


def check_pickup_area(arguments: dict[str, Any], ctx: Any = None) -> dict[str, Any]:
    """Accept a pickup address inside Greater Manchester; refuse one outside it or unplaceable."""
    address = _tidy(str(arguments.get("address") or ""))
    if not address:
        return {"error": "Sorry, I didn't catch the pickup address."}

    postcode = _POSTCODE.search(address)
    if postcode:
        parts = _OUTWARD_PARTS.fullmatch(postcode.group(1))
        if parts and _gm_outward(parts.group(1), int(parts.group(2))):
            return {"address": address, "area": postcode.group(1).upper()}
        return {
            "error": f"Sorry, {postcode.group(0).upper()} is outside our pickup area: "
            "we only collect in Greater Manchester."
        }
    for outward in _GM_OUTWARD_ALONE.finditer(address):
        if _gm_outward(outward.group(1), int(outward.group(2))):
            return {"address": address, "area": outward.group(0).upper()}

    places = _STREET_NAME.sub(" ", address).lower()
    area = _find_word(places, PICKUP_AREAS)
    if area:
        return {"address": address, "area": area.title()}
    outside = _find_word(places, OUTSIDE_TOWNS)
    if outside:
        return {
            "error": f"Sorry, we only collect in Greater Manchester, and {outside.title()} "
            "is outside our pickup area."
        }
    return {"error": "Sorry, I couldn't tell which town that address is in."}


# --------------------------------------------------------------------------------------------
# Where we deliver: anywhere in mainland Great Britain, the same day.

UNREACHABLE: tuple[tuple[str, str], ...] = (
    ("northern ireland", "Northern Ireland"), ("belfast", "Belfast"), ("londonderry", "Derry"),
    ("derry", "Derry"), ("dublin", "Dublin"), ("galway", "Galway"),
    ("ireland", "Ireland"), ("isle of man", "the Isle of Man"), ("jersey", "Jersey"),
    ("guernsey", "Guernsey"), ("channel islands", "the Channel Islands"),
    ("isle of wight", "the Isle of Wight"), ("scilly", "the Isles of Scilly"),
    ("shetland", "Shetland"), ("orkney", "Orkney"), ("hebrides", "the Hebrides"),
    ("stornoway", "the Hebrides"), ("abroad", "an address abroad"),
    ("overseas", "an address overseas"), ("france", "France"), ("paris", "Paris"),
    ("spain", "Spain"), ("germany", "Germany"), ("netherlands", "the Netherlands"),
    ("amsterdam", "Amsterdam"), ("belgium", "Belgium"), ("brussels", "Brussels"),
)

# Postcode areas off the mainland: Northern Ireland, Isle of Man, Jersey, Guernsey, Shetland,
# Outer Hebrides; and districts: Isle of Wight (PO30-41), Scilly (TR21-25), Orkney (KW15-17).
_OFFSHORE_AREAS = {"BT", "IM", "JE", "GY", "ZE", "HS"}
_OFFSHORE_DISTRICTS = {"PO": range(30, 42), "TR": range(21, 26), "KW": range(15, 18)}


def check_destination(arguments: dict[str, Any], ctx: Any = None) -> dict[str, Any]:
    """Accept a destination in mainland Great Britain; refuse islands and abroad."""
    destination = _tidy(str(arguments.get("destination") or ""))
    if not destination:
        return {"error": "Sorry, I didn't catch where the parcels are going."}

    postcode = _POSTCODE.search(destination)
    if postcode:
        parts = _OUTWARD_PARTS.fullmatch(postcode.group(1))
        if parts:
            area, district = parts.group(1).upper(), int(parts.group(2))
            if area in _OFFSHORE_AREAS or district in _OFFSHORE_DISTRICTS.get(area, ()):
                return {
                    "error": f"Sorry, we can't get to {postcode.group(0).upper()} the same day: "
                    "we deliver within mainland Great Britain."
                }
    words = destination.lower()
    for name, said in UNREACHABLE:
        if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", words):
            return {
                "error": f"Sorry, we can't get to {said} the same day: "
                "we deliver within mainland Great Britain."
            }
    return {"destination": destination}


# --------------------------------------------------------------------------------------------
# When we collect: drivers are out from 7 in the morning to 8 in the evening.

FIRST_PICKUP = (7, 0)
LAST_PICKUP = (20, 0)


def check_pickup_time(arguments: dict[str, Any], ctx: Any = None) -> dict[str, Any]:
    """Accept a pickup time ("HH:MM") within driver hours, 07:00 to 20:00."""
    raw = str(arguments.get("time") or "").strip()
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::\d{2})?", raw)
    if not match:
        return {"error": "Sorry, I didn't catch the time."}
    hour, minute = int(match.group(1)), int(match.group(2))
    if not FIRST_PICKUP <= (hour, minute) <= LAST_PICKUP:
        return {"error": "Sorry, our drivers only collect between 7 am and 8 pm."}
    return {"time": f"{hour:02d}:{minute:02d}"}
