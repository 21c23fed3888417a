"""The home-cleaning agent's own actions (named in cleaning.yaml as cleaning_actions:<function>).

Each is called as f(arguments, ctx) -> dict; a returned {"error": ...} refuses the value, and the
service says the error and asks the slot's question again.
"""

from __future__ import annotations

import re

# The postcode areas our cleaners cover (south and west London and nearby towns).
COVERED_AREAS: dict[str, str] = {
    "SW": "south-west London",
    "SE": "south-east London",
    "W": "west London",
    "TW": "Twickenham and Richmond",
    "KT": "Kingston",
    "CR": "Croydon",
}

# A full UK postcode with or without its space, in any case, anywhere in the text.
_POSTCODE_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{1,2})([0-9][A-Za-z0-9]?) ?([0-9][A-Za-z]{2})(?![A-Za-z0-9])"
)

# Our cleaners start a job between these times (minutes after midnight), both included.
EARLIEST_START = 8 * 60
LATEST_START = 16 * 60


async def check_postcode(arguments: dict, ctx) -> dict:
    """A postcode we cover, written the standard way ("sw4 7ab" -> "SW4 7AB"), or an error."""
    raw = str(arguments.get("postcode") or "").strip()
    match = _POSTCODE_IN_TEXT.search(raw)
    if match is None:
        return {"error": f"{raw or 'That'} doesn't look like a full postcode, such as SW4 7AB."}
    area, district, inward = (part.upper() for part in match.groups())
    outward = area + district
    if area not in COVERED_AREAS:
        return {
            "error": (
                f"Sorry, we don't cover {outward} yet: we clean homes in SW, SE, W, TW, KT "
                "and CR postcodes."
            )
        }
    return {"postcode": f"{outward} {inward}", "area": COVERED_AREAS[area]}


async def check_start_time(arguments: dict, ctx) -> dict:
    """The start time (HH:MM) when it is within our cleaners' hours, or an error."""
    raw = str(arguments.get("start_time") or "").strip()
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::\d{2})?", raw)
    if match is None:
        return {"error": "Sorry, I didn't catch the time."}
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return {"error": "Sorry, I didn't catch the time."}
    if not EARLIEST_START <= hours * 60 + minutes <= LATEST_START:
        return {"error": "Sorry, our cleaners can only start between 8 am and 4 pm."}
    return {"start_time": f"{hours:02d}:{minutes:02d}"}
