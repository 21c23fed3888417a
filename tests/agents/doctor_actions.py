"""The doctor agent's own action (a plain function: the service runs it off the event loop)."""

from __future__ import annotations

from typing import Any

DOCTORS = {"dentist": "Dr. Rao", "cardiologist": "Dr. Mehta", "dermatologist": "Dr. Iyer"}


def find_doctor(arguments: dict[str, Any], ctx: Any) -> dict[str, Any]:
    specialty = arguments["specialty"].lower().removeprefix("a ").strip()
    name = DOCTORS.get(specialty)
    if name is None:
        return {"error": f"No {specialty} on duty."}
    return {"doctor": {"name": name, "specialty": specialty}}
