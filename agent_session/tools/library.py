"""The built-in actions any agent may name: place search, dates and the user's saved addresses.

Each is built only when an agent names it (`library_actions`), so an agent that never searches
places starts no place search and loads no gazetteer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator

from ..agent.actions import Action, ActionContext, pydantic_action
from . import dates
from .places.base import PlacesProvider
from .users import UserDirectory


class SearchPlacesArgs(BaseModel):
    text_query: str = Field(min_length=1, max_length=200,
                            description="the place as the user said it")


class BookingDateArgs(BaseModel):
    user_input: str = Field(min_length=1, max_length=200,
                            description="the user's words for the date and/or time")


class UserAddressArgs(BaseModel):
    user_id: str | None = Field(None, max_length=64,
                                description="ignored: the session's user is used")
    address_type: Literal["home", "office"]

    @field_validator("address_type", mode="before")
    @classmethod
    def _fold(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


LIBRARY = ("search_places", "get_booking_date", "get_user_address")


def library_actions(names: set[str], places: Callable[[], PlacesProvider],
                    users: Callable[[], UserDirectory], tz: ZoneInfo) -> list[Action]:
    """The built-in actions among `names`; `places` and `users` are called only when an action
    that needs them is named."""
    actions: list[Action] = []
    if "search_places" in names:
        provider = places()

        async def search_places(args: SearchPlacesArgs, ctx: ActionContext) -> dict[str, Any]:
            found = await provider.search(args.text_query)
            if not found:
                return {"places": [], "note": f"No place matched {args.text_query!r}. Ask the "
                                              "user to name the place differently."}
            # Name and address only: coordinates cost the model tokens and tell it nothing.
            return {"places": [{"name": p.name, "address": p.address} for p in found]}

        actions.append(pydantic_action(
            "search_places", "Find a named place (area, landmark, airport) and return its full "
            "name and address.", SearchPlacesArgs, search_places))
    if "get_booking_date" in names:

        async def get_booking_date(args: BookingDateArgs, ctx: ActionContext) -> dict[str, Any]:
            resolved = dates.resolve(args.user_input, ctx.now, tz)
            if resolved.conflict:
                return {"error": f"{resolved.conflict} Ask the user which they meant."}
            if resolved.date is None and resolved.time is None:
                return {"error": f"No date or time found in {args.user_input!r}. Ask the user."}
            today = ctx.now.astimezone(tz).date()
            answer: dict[str, Any] = {
                "date": resolved.date.isoformat() if resolved.date else None,
                "weekday": resolved.date.strftime("%A") if resolved.date else None,
                "time": resolved.time.strftime("%H:%M") if resolved.time else None,
            }
            if resolved.date is not None and resolved.date < today:
                return {"error": f"{resolved.date.isoformat()} is in the past. Ask the user for "
                                 "a future date."}
            if resolved.date is None:
                answer["note"] = "No date in the text: ask the user for the date."
            elif resolved.time is None:
                answer["note"] = "No time in the text: ask the user for the time."
            return answer

        actions.append(pydantic_action(
            "get_booking_date", "Turn the user's own date/time words into date YYYY-MM-DD and "
            "time HH:MM.", BookingDateArgs, get_booking_date))
    if "get_user_address" in names:
        directory = users()

        async def get_user_address(args: UserAddressArgs, ctx: ActionContext) -> dict[str, Any]:
            # The session's owner is looked up, whatever user_id the model passed.
            if ctx.user_id is None:
                return {"error": "No user is known for this session, so there are no saved "
                                 "addresses. Ask the user for the address."}
            address = directory.address(ctx.user_id, args.address_type)
            if address is None:
                return {"error": f"No saved {args.address_type} address for this user. Ask the "
                                 "user for the address."}
            return {"address_type": args.address_type, "address": address}

        actions.append(pydantic_action(
            "get_user_address", "Only when the user says 'my home' or 'my office': get that "
            "saved address.", UserAddressArgs, get_user_address))
    return actions
