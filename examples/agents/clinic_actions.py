"""The clinic-appointment agent's own action (examples/agents/clinic.yaml).

Deterministic and offline: no network, no clock other than the session's ``ctx.now``.
The service imports this module at start-up because the agent file names
``clinic_actions:check_clinic_day`` (the agent file's folder is importable).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

# The clinic takes bookings from today up to this many days ahead.
BOOKING_WINDOW_DAYS = 60

# The clinic is open every day, at these hours (returned for information only).
OPENING_HOURS = "09:00-18:00"


def _today(ctx) -> date:
    """The session's day, from ``ctx.now`` (an attribute or a key), else the machine's."""
    now = getattr(ctx, "now", None)
    if now is None and isinstance(ctx, dict):
        now = ctx.get("now")
    if callable(now):
        now = now()
    if isinstance(now, datetime):
        return now.date()
    if isinstance(now, date):
        return now
    if isinstance(now, str):
        try:
            return datetime.fromisoformat(now).date()
        except ValueError:
            pass
    return date.today()


def check_clinic_day(arguments: dict, ctx) -> dict:
    """Whether the clinic takes bookings on a day (``date``: YYYY-MM-DD).

    Returns ``{"date", "weekday", "hours"}`` when it does, ``{"error": ...}`` when it does not
    (the day has passed, or it is more than BOOKING_WINDOW_DAYS ahead).
    """
    raw = str(arguments.get("date") or "").strip()
    try:
        day = date.fromisoformat(raw[:10])
    except ValueError:
        return {"error": f"not a date: {raw!r}"}
    today = _today(ctx)
    if day < today:
        return {"error": f"{day.isoformat()} has passed"}
    if day > today + timedelta(days=BOOKING_WINDOW_DAYS):
        return {"error": f"we only book up to {BOOKING_WINDOW_DAYS} days ahead"}
    return {"date": day.isoformat(), "weekday": day.strftime("%A"),
            "hours": OPENING_HOURS}
