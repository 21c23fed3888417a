"""What a voice transport says: dates, times and places as a person says them, and the μ-law
codec the phone transports use (a round trip stays close to the original)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import numpy as np

from agent_session.voice.codecs import MulawDecoder, MulawEncoder, Resampler
from agent_session.voice.spoken import spoken, spoken_date, spoken_time


def test_dates_and_times_are_said_not_printed():
    assert spoken_date(date(2026, 12, 3), date(2026, 12, 2)) == "Thursday the 3rd of December"
    assert spoken_date(date(2028, 1, 21), date(2026, 12, 2)) == "Friday the 21st of January 2028"
    assert [spoken_time(h, m) for h, m in ((9, 0), (20, 30), (0, 0), (12, 0), (14, 5),
                                           (23, 15), (3, 0))] == [
        "9 in the morning", "8:30 in the evening", "midnight", "noon",
        "2:05 in the afternoon", "11:15 at night", "3 at night"]
    text = spoken("Your cab from MG Road, Bengaluru, India to Koramangala, Bengaluru, India on "
                  "2026-12-03 at 09:00 is booked.", ZoneInfo("UTC"))
    assert "Thursday the 3rd of December" in text and "at 9 in the morning" in text
    assert "MG Road to Koramangala" in text and "India" not in text
    assert spoken("Pickup at MG Road, Bengaluru, India?") == "Pickup at MG Road, Bengaluru?"
    assert spoken("Call 9:30 am or 2026-13-45") == "Call 9:30 am or 2026-13-45"  # as said


def test_mulaw_round_trip_and_resampling():
    tone = (np.sin(np.arange(8000) / 8000 * 2 * np.pi * 440) * 12000).astype(np.int16)
    encoded = MulawEncoder()(tone)
    assert len(encoded) == len(tone)  # one byte a sample
    back = MulawDecoder()(encoded)
    assert np.abs(back.astype(int) - tone).max() < 500  # μ-law's step at this level
    up = Resampler(8000, 16000)
    doubled = np.concatenate([up(tone[i:i + 160]) for i in range(0, 8000, 160)])
    assert abs(len(doubled) - 16000) < 100  # a stream cut anywhere resamples as one
