"""Own actions of the IT helpdesk agent (helpdesk.yaml).

Each is called as f(arguments, ctx) -> dict; ctx has session_id, user_id and now (an aware
datetime). Returning {"error": ...} refuses the value: the service says the error and asks the
slot's question again.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

# The staff directory (a stand-in for the HR system): employee ID -> (name, department).
EMPLOYEES: dict[str, tuple[str, str]] = {
    "E00117": ("Helen Brooks", "it"),
    "E02468": ("Yuki Tanaka", "engineering"),
    "E10233": ("Daniel Kim", "sales"),
    "E11223": ("Peter Novak", "finance"),
    "E13579": ("Jonas Weber", "engineering"),
    "E20418": ("Sofia Martins", "hr"),
    "E20481": ("Priya Raman", "finance"),
    "E21048": ("Ben Carter", "hr"),
    "E30562": ("Aisha Bello", "operations"),
    "E31552": ("Marcus Olsen", "marketing"),
    "E35790": ("Fatima Haddad", "hr"),
    "E41207": ("Kevin Walsh", "sales"),
    "E46802": ("Maria Lopez", "finance"),
    "E51830": ("Lena Fischer", "legal"),
    "E55501": ("Jamie Doyle", "finance"),
    "E57913": ("Katarzyna Nowak", "marketing"),
    "E62091": ("Ravi Shah", "engineering"),
    "E68024": ("Oliver Grant", "sales"),
    "E73325": ("Grace Liu", "customer service"),
    "E79135": ("Samuel Okafor", "operations"),
    "E80246": ("Chloe Martin", "legal"),
    "E84410": ("Omar Farouk", "marketing"),
    "E91357": ("Ahmed Rahman", "customer service"),
}

# Days the service desk is closed: no technician visits.
CLOSED_DAYS: dict[str, str] = {
    "2026-12-24": "Christmas Eve",
    "2026-12-25": "Christmas Day",
    "2026-12-31": "New Year's Eve",
    "2027-01-01": "New Year's Day",
    "2027-12-24": "Christmas Eve",
    "2027-12-31": "New Year's Eve",
}

MAX_DAYS_AHEAD = 14
FIRST_VISIT = "08:00"
LAST_VISIT = "17:00"

_EMPLOYEE_ID = re.compile(r"\b[Ee]\s?-?\s?(\d{5})\b")
_ASSET_TAG = re.compile(r"\b[Ii][Tt]\s?-?\s?(\d{5})\b")
_TIME = re.compile(r"^\s*(\d{1,2}):(\d{2})")


def _today(ctx) -> date:
    """Today in the service's TIMEZONE when it is in the environment, else the machine's."""
    now = getattr(ctx, "now", None) or datetime.now().astimezone()
    zone = os.environ.get("TIMEZONE")
    if zone:
        try:
            return now.astimezone(ZoneInfo(zone)).date()
        except Exception:  # an unknown zone name: fall back to the machine's zone
            pass
    return now.astimezone().date()


def lookup_employee(arguments: dict, ctx) -> dict:
    raw = str(arguments.get("employee_id", "")).strip()
    match = _EMPLOYEE_ID.search(raw)
    if not match:
        return {"error": f"{raw or 'That'} doesn't look like an employee ID "
                         "(the letter E and five digits)."}
    employee_id = "E" + match.group(1)
    person = EMPLOYEES.get(employee_id)
    if person is None:
        return {"error": f"I couldn't find employee ID {employee_id} in the staff directory."}
    name, department = person
    return {"employee_id": employee_id, "name": name, "department": department}


def check_asset_tag(arguments: dict, ctx) -> dict:
    raw = str(arguments.get("asset_tag", "")).strip()
    match = _ASSET_TAG.search(raw)
    if not match:
        return {"error": f"{raw or 'That'} doesn't look like an asset tag "
                         "(IT and five digits, like IT-12345)."}
    return {"asset_tag": "IT-" + match.group(1)}


def check_visit_date(arguments: dict, ctx) -> dict:
    raw = str(arguments.get("date", "")).strip()
    try:
        day = date.fromisoformat(raw[:10])
    except ValueError:
        return {"error": f"I couldn't read {raw or 'that'} as a day."}
    today = _today(ctx)
    if day < today:
        return {"error": "That day has already passed."}
    if day > today + timedelta(days=MAX_DAYS_AHEAD):
        return {"error": f"We can only book technician visits up to {MAX_DAYS_AHEAD} days ahead."}
    closed = CLOSED_DAYS.get(day.isoformat())
    if closed:
        return {"error": f"The service desk is closed on {day.isoformat()} ({closed})."}
    return {"date": day.isoformat(), "technicians_on_duty": 3}


def check_visit_time(arguments: dict, ctx) -> dict:
    raw = str(arguments.get("time", "")).strip()
    match = _TIME.match(raw)
    if not match:
        return {"error": f"I couldn't read {raw or 'that'} as a time."}
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours > 23 or minutes > 59:
        return {"error": f"I couldn't read {raw} as a time."}
    value = f"{hours:02d}:{minutes:02d}"
    if not FIRST_VISIT <= value <= LAST_VISIT:
        return {"error": f"Technicians only visit between 8 am and 5 pm, and {value} is "
                         "outside that."}
    return {"time": value}
