"""A whole booking by phone: a Twilio call to an agent of another domain (`tests/agents/
tables.yaml`), the caller speaking (the embedded voice, in real time, recognized by the embedded
recognizer) and pressing keys, the model a fake scripted with the one extraction the first turn
needs; the result is the booking. And with no `TWILIO_AUTH_TOKEN`, no Twilio webhook."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from twilio.request_validator import RequestValidator

from agent_session.main import create_app

from .conftest import make_settings, running
from .fakes.carrier import CarrierClient
from .fakes.openai_server import json_answer
from .service_process import on_fake_model
from .speech_samples import spoken_samples

AGENT = str(Path(__file__).parent / "agents" / "tables.yaml")
TOKEN = "twilio-booking-token"


def answered(url: str, form: dict[str, str]) -> httpx.Response:
    return httpx.post(url, data=form, headers={
        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, form)})


def stored(service, session_id: str) -> dict:
    return httpx.get(f"{service.url}/session/{session_id}").json()


def said(service, session_id: str) -> list[str]:
    response = httpx.get(f"{service.url}/session/{session_id}")
    if response.status_code != 200:
        return []
    return [m["content"] for m in response.json()["messages"] if m["role"] == "user"]


async def speech(text: str):
    from agent_session.speech.audio import decode, encode

    samples, rate = await spoken_samples([text])
    return decode(encode(samples, rate, "audio/wav"), 60).pcm


@pytest.mark.parametrize("carrier", ["twilio", "exotel"])
async def test_a_table_booked_by_phone(carrier):
    with on_fake_model(AGENTS=AGENT, TWILIO_AUTH_TOKEN=TOKEN, VAD_SILENCE_MS="500",
                       TIMEZONE="Asia/Kolkata", LOG_LEVEL="INFO") as ([service], fake):
        fake.script(json_answer({"guests": "2"}), json_answer({"name": "Smith"}))
        if carrier == "twilio":
            number, sid = "+919900112233", "CAbook"
            url = f"{service.url}/telephony/twilio/voice?agent=tables"
            answer = answered(url, {"CallSid": sid, "From": number, "To": "+14155550199"})
            stream = ET.fromstring(answer.text).find("./Connect/Stream")
            params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
            call = CarrierClient(stream.get("url"))
        else:  # Exotel's voicebot applet at 8 kHz, the agent named in the URL
            number, sid, params = "09900112233", "exobook", {}
            call = CarrierClient(service.url.replace("http://", "ws://")
                                 + "/telephony/exotel/stream?agent=tables", kind="exotel")
        async with call:
            await call.start(sid, parameters=params, caller=number)
            await call.press("2#")  # how many people: on the keypad
            await call.wait_for(lambda: len(said(service, sid)) == 1)
            await call.quiet()
            for turn, words in enumerate(["Tomorrow.", "Eight in the evening.", "Smith.",
                                          "Inside."], 2):
                await call.speak(await speech(words))
                await call.silence(1.0)
                await call.wait_for(lambda n=turn: len(said(service, sid)) == n)
                await call.quiet()
            await call.press("1")  # "press 1 for yes" at the read-back
            await call.wait_for(lambda: len(said(service, sid)) == 6, 10)
            await call.stop()
            try:
                await call.wait_for(lambda: call.closed is not None, 20)
            except AssertionError as exc:  # what the service did, to see why
                raise AssertionError(f"{exc}\n{service.logs()[-4000:]}") from None
        session = stored(service, sid)
    assert session["user_id"] == number
    result = session["result"]
    assert (result["guests"], result["time"], result["name"], result["seating"]) == (
        2, "20:00", "Smith", "indoors"), session["messages"]


async def test_without_an_auth_token_there_is_no_twilio_webhook():
    async with running(create_app(make_settings())) as client:
        response = await client.post("/telephony/twilio/voice", data={"CallSid": "CA1"})
    assert response.status_code == 404
