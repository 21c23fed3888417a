"""Phone calls on a real service process, with scripted carrier clients (`tests/fakes/carrier.py`)
streaming the embedded voice's speech in real time: Twilio's webhook (TwiML, its signature valid,
invalid and missing) and media stream (greeting, a turn by voice, keypad digits, `mark` round
trips, barge-in with `clear`, `stop`, bad input), Exotel's stream (its key, chunk rules, other
sample rates). Latency is measured by `bench/speech.py`, not here."""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from twilio.request_validator import RequestValidator

from .fakes.carrier import CarrierClient
from .service_process import ServiceProcess
from .speech_samples import spoken_pcm

TOKEN = "twilio-test-auth-token"
KEY = "phone-key"
CALLER = "+14155550100"


def trimmed(pcm: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(pcm) > 300)
    return pcm[loud[0]:loud[-1] + 1]


@pytest.fixture(scope="module")
def speech() -> dict[str, np.ndarray]:
    texts = {"cab": "I need a cab please.",
             "over": "No wait, I want to change the pickup place."}
    spoken = {name: spoken_pcm(text) for name, text in texts.items()}
    # Two sentences with a short breath between (the voice's own pause could end the utterance)
    gap = np.zeros(int(16000 * 0.15), dtype=np.int16)
    spoken["two"] = np.concatenate([trimmed(spoken_pcm("I need a cab from the airport.")), gap,
                                    trimmed(spoken_pcm("It is for tomorrow morning."))])
    return spoken


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceProcess]:
    process = ServiceProcess(TWILIO_AUTH_TOKEN=TOKEN, API_KEYS=KEY, VAD_SILENCE_MS="500",
                             LOG_LEVEL="INFO").start()
    try:
        yield process
    finally:
        process.stop()


def webhook(service: ServiceProcess, form: dict[str, str], agent: str | None = None,
            token: str | None = TOKEN, signature: str | None = None) -> httpx.Response:
    url = f"{service.url}/telephony/twilio/voice" + (f"?agent={agent}" if agent else "")
    headers = {}
    if token is not None:
        headers["X-Twilio-Signature"] = signature or RequestValidator(token).compute_signature(
            url, form)
    return httpx.post(url, data=form, headers=headers, timeout=10)


def stream_of(twiml: str) -> tuple[str, dict[str, str]]:
    stream = ET.fromstring(twiml).find("./Connect/Stream")
    assert stream is not None, twiml
    return stream.get("url"), {p.get("name"): p.get("value")
                               for p in stream.findall("Parameter")}


def form(call_sid: str, caller: str = CALLER) -> dict[str, str]:
    return {"CallSid": call_sid, "AccountSid": "AC1", "From": caller, "To": "+14155550199",
            "CallStatus": "ringing", "Direction": "inbound"}


async def twilio_call(service: ServiceProcess, call_sid: str) -> CarrierClient:
    answer = webhook(service, form(call_sid))
    assert answer.status_code == 200, answer.text
    url, params = stream_of(answer.text)
    client = await CarrierClient(url).__aenter__()
    await client.start(call_sid, parameters=params)
    return client


def session_of(service: ServiceProcess, session_id: str) -> dict:
    response = httpx.get(f"{service.url}/session/{session_id}", headers={"x-api-key": KEY})
    assert response.status_code == 200, response.text
    return response.json()


def user_said(session: dict) -> list[str]:
    return [m["content"] for m in session["messages"] if m["role"] == "user"]


def turns(service: ServiceProcess, session_id: str) -> int:
    """How many user turns the session has stored (0 before its first)."""
    response = httpx.get(f"{service.url}/session/{session_id}", headers={"x-api-key": KEY})
    return len(user_said(response.json())) if response.status_code == 200 else 0


def test_the_webhook_answers_twiml_bound_to_the_call_when_signed(service):
    answer = webhook(service, form("CA100"))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    url, params = stream_of(answer.text)
    assert url == service.url.replace("http://", "ws://") + "/telephony/twilio/stream"
    assert params["call"] == "CA100" and len(params["token"]) >= 24
    assert webhook(service, form("CA100"), token="another-token").status_code == 403
    assert webhook(service, form("CA100"), token=None).status_code == 403  # missing
    signed = RequestValidator(TOKEN).compute_signature(
        f"{service.url}/telephony/twilio/voice", form("CA100"))
    assert webhook(service, form("CA100", "+19999999999"),
                   signature=signed).status_code == 403  # the form changed after signing
    assert webhook(service, form("CA101"), agent="no-such-agent").status_code == 404


async def test_a_call_greets_takes_a_turn_by_voice_and_by_keypad_then_stops(service, speech):
    client = await twilio_call(service, "CA200")
    try:
        await client.wait_for(lambda: "media" in client.events())  # the greeting
        await client.wait_for(lambda: "mark" in client.events())
        await client.quiet()
        greeting_marks = sum(1 for i in client.log if i.event == "mark")
        assert greeting_marks == 2  # "Hello!" and the question: a mark after each sentence
        await voice_then_keys(client, service, "CA200", speech["cab"], "42#")
        await client.quiet()
        await client.stop()
        await client.wait_for(lambda: client.closed is not None, 10)
    finally:
        await client.__aexit__()
    assert client.closed[0] == 1000
    session = session_of(service, "CA200")
    assert session["user_id"] == CALLER  # the caller's number, as Twilio sends it
    said = user_said(session)
    assert "cab" in said[0].lower() and said[1] == "42"
    every = [i.message for i in client.log if i.event == "media"]
    assert all(m["streamSid"] == "MZ1" for m in every)
    sizes = {len(base64.b64decode(m["media"]["payload"])) for m in every}
    assert sizes == {160}  # 20 ms of μ-law at 8 kHz, every frame


async def test_barge_in_clears_the_reply_and_the_session_says_what_was_heard(service, speech):
    client = await twilio_call(service, "CA300")
    try:
        await client.wait_for(lambda: "media" in client.events())
        await client.quiet()
        await client.speak(speech["two"])
        await client.silence(0.6)
        replied = len(client.log)
        # The reply ("You said: ... airport. It is ...") plays; its first sentence is heard
        # (its mark returned), then the caller talks over the second.
        await client.wait_for(lambda: any(i.event == "mark" for i in client.log[replied:]))
        talked_until = await client.speak(speech["over"])
        await client.wait_for(lambda: "clear" in [i.event for i in client.log[replied:]])
        cleared = next(i for i in client.log[replied:] if i.event == "clear")
        await client.silence(1.0)
        await client.wait_for(lambda: turns(service, "CA300") == 2)
    finally:
        await client.__aexit__()
    assert cleared.at < talked_until  # stopped while the caller was still talking
    after = [i for i in client.log if i.at > cleared.at and i.event == "media"]
    assert after and after[0].at > talked_until  # nothing of the old reply after `clear`
    session = session_of(service, "CA300")
    first_reply = next(m for m in session["messages"] if m.get("kind") == "question")
    assert first_reply["content"].startswith("You said:")
    assert first_reply["heard"].startswith("You said:")
    assert len(first_reply["heard"]) < len(first_reply["content"])


async def test_a_stream_not_bound_to_a_call_is_closed(service):
    url = service.url.replace("http://", "ws://") + "/telephony/twilio/stream"
    async with CarrierClient(url) as client:
        await client.start("CA400", parameters={"call": "CA400", "token": "guessed"})
        await client.wait_for(lambda: client.closed is not None, 10)
    assert client.closed[0] == 1008 and "not bound" in client.closed[1]


async def test_media_before_start_and_garbage_close_that_call_only(service, speech):
    url = service.url.replace("http://", "ws://") + "/telephony/twilio/stream"
    async with CarrierClient(url) as early:
        await early.send({"event": "media", "streamSid": "MZ1", "media": {"payload": "AAAA"}})
        await early.wait_for(lambda: early.closed is not None, 10)
    assert early.closed[0] == 1008 and "before 'start'" in early.closed[1]
    client = await twilio_call(service, "CA500")
    try:
        await client.speak(speech["cab"][:8000])  # half a second of a word, then garbage
        await client.send({"event": "media", "streamSid": "MZ1", "media": {"payload": "%%%"}})
        await client.wait_for(lambda: client.closed is not None, 10)
    finally:
        await client.__aexit__()
    assert client.closed[0] == 1008 and "base64" in client.closed[1]
    other = await twilio_call(service, "CA501")  # the service goes on
    try:
        await other.wait_for(lambda: "media" in other.events())
    finally:
        await other.__aexit__()
    assert turns(service, "CA500") == 0  # no turn was complete: nothing stored


async def test_a_carrier_that_hangs_up_without_stop_leaves_the_last_complete_turn(
        service, speech):
    client = await twilio_call(service, "CA600")
    try:
        await client.speak(speech["cab"])
        await client.silence(1.0)
        await client.wait_for(lambda: turns(service, "CA600") == 1)
        await client.speak(speech["over"][:16000])  # mid-utterance...
    finally:
        await client.__aexit__()  # ...the socket goes, no `stop`
    assert turns(service, "CA600") == 1


async def voice_then_keys(client: CarrierClient, service: ServiceProcess, session_id: str,
                          pcm: np.ndarray, keys: str) -> None:
    """One turn said (then the silence that ends it) and one pressed, each waited for."""
    await client.speak(pcm)
    await client.silence(1.0)
    await client.wait_for(lambda: turns(service, session_id) == 1)
    await client.quiet()
    await client.press(keys)
    await client.wait_for(lambda: turns(service, session_id) == 2)


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"exotel:{key}".encode()).decode()}


async def test_exotel_needs_the_key_and_sends_chunks_it_accepts(service, speech):
    url = service.url.replace("http://", "ws://") + "/telephony/exotel/stream"
    async with CarrierClient(url, kind="exotel") as refused:
        await refused.start("exo-1", caller="09876543210")
        await refused.wait_for(lambda: refused.closed is not None, 10)
    assert refused.closed[0] == 1008 and "401" in refused.closed[1]
    async with CarrierClient(url, kind="exotel", headers=basic(KEY)) as client:
        await client.start("exo-2", caller="09876543210")
        await client.wait_for(lambda: "media" in client.events())
        await client.quiet()
        await voice_then_keys(client, service, "exo-2", speech["cab"], "7")
        await client.stop()
        await client.wait_for(lambda: client.closed is not None, 10)
    assert client.closed[0] == 1000
    sizes = [len(base64.b64decode(i.message["media"]["payload"]))
             for i in client.log if i.event == "media"]
    assert sizes and all(s % 320 == 0 and 3200 <= s <= 100_000 for s in sizes)
    session = session_of(service, "exo-2")
    assert session["user_id"] == "09876543210" and user_said(session)[1] == "7"
    assert all(i.message["stream_sid"] == "MZ1" for i in client.log if i.event == "media")


async def test_exotel_at_16_khz_and_a_rate_it_does_not_offer(service, speech):
    base = service.url.replace("http://", "ws://") + "/telephony/exotel/stream"
    async with CarrierClient(base + "?sample-rate=16000", kind="exotel", rate=16000,
                             headers=basic(KEY)) as client:
        await client.start("exo-3", caller="09876543210")
        await client.speak(speech["cab"])
        await client.silence(1.0)
        await client.wait_for(lambda: turns(service, "exo-3") == 1)
    assert "cab" in user_said(session_of(service, "exo-3"))[0].lower()
    async with CarrierClient(base + "?sample-rate=11025", kind="exotel",
                             headers=basic(KEY)) as odd:
        await odd.wait_for(lambda: odd.closed is not None, 10)
    assert odd.closed[0] == 1008 and "sample-rate" in odd.closed[1]
