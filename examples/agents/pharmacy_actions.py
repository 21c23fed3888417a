"""Greenleaf Pharmacy's own action for the pharmacy-refill agent (pharmacy.yaml).

Called by the service as f(arguments, ctx) -> dict; returning {"error": ...} refuses the value,
and the error sentence is said before the question is asked again.
"""

from __future__ import annotations

import re

_NOT_DIGIT = re.compile(r"\D")
RX_DIGITS = 6


def normalize_rx(arguments: dict, ctx) -> dict:
    """Turn a prescription number as said ("rx 482-913", "R X 4 8 2 9 1 3") into "RX482913"."""
    said = str(arguments.get("text") or "")
    digits = _NOT_DIGIT.sub("", said)
    if len(digits) != RX_DIGITS:
        return {
            "error": "A prescription number is RX followed by six digits, like RX 123456, "
            "and I didn't get six digits from that."
        }
    return {"rx_number": "RX" + digits, "digits": digits}
