"""Voice calls: one pipeline (`pipeline.py`), and the transports that carry it: the browser's
socket (`browser.py`), Twilio Media Streams (`twilio.py`), Exotel's voicebot stream
(`exotel.py`)."""
