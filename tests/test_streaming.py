"""`POST /chat/stream` (server-sent events) and the one-call `POST /voice`."""

from __future__ import annotations

import asyncio
import base64
import json
import threading

import httpx

from agent_session.errors import LLMTimeout
from agent_session.main import create_app
from agent_session.services import Overrides
from agent_session.speech.audio import decode

from .conftest import make_settings
from .fakes.scripted_llm import ScriptedLLM, call
from .fakes.server import serve


def parse_events(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        kind, data = "message", ""
        for line in block.splitlines():
            if line.startswith("event:"):
                kind = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
        if data:
            events.append((kind, json.loads(data)))
    return events


async def test_events_in_order_with_payloads(harness):
    harness.llm.extend([
        [call("search_places", text_query="MG Road"),
         call("search_places", text_query="Koramangala")],
        [call("get_booking_date", user_input="tomorrow")],
        [call("prompt_user", question="What time?")],
    ])
    response = await harness.client.post("/chat/stream", json={
        "query": "MG Road to Koramangala tomorrow", "session_id": "sse-1"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = parse_events(response.text)
    assert [kind for kind, _ in events] == ["step", "step", "step", "question"]
    first = events[0][1]
    assert first["action"] == "search_places" and first["args"] == {"text_query": "MG Road"}
    assert first["observation"]["places"][0]["name"] == "MG Road"
    assert isinstance(first["ms"], int)
    assert events[2][1]["observation"]["date"] == "2026-11-26"
    assert events[-1][1] == {"session_id": "sse-1", "query": "What time?", "final_response": {},
                             "status_code": "201", "error": None, "agent": "cab-booking",
                             "asking": None, "outcome": "question"}
    stored = (await harness.client.get("/session/sse-1")).json()
    assert [m["role"] for m in stored["messages"]] == ["user", "tool", "tool", "tool",
                                                       "assistant"]


async def test_final_event(harness):
    result = {"pickup_location": "A", "destination": "B", "date": "2026-11-26",
              "time": "09:00", "preferences": "sedan"}
    harness.llm.extend([[call("final_answer", **result)]])
    events = parse_events((await harness.client.post("/chat/stream",
                                                     json={"query": "go"})).text)
    assert events == [("final", {**events[0][1], "final_response": result})]
    assert events[0][1]["status_code"] == "200"


async def test_llm_failure_is_an_error_event_and_changes_nothing(harness):
    harness.llm.extend([[call("prompt_user", question="Where from?")]])
    await harness.chat("cab", session_id="sse-err")
    before = (await harness.client.get("/session/sse-err")).json()
    harness.llm.extend([[call("search_places", text_query="MG Road")], LLMTimeout("too slow")])
    events = parse_events((await harness.client.post("/chat/stream", json={
        "query": "MG Road", "session_id": "sse-err"})).text)
    assert [kind for kind, _ in events] == ["step", "error"]
    assert events[-1][1] == {"status": 504, "detail": "too slow"}
    assert (await harness.client.get("/session/sse-err")).json() == before


async def test_errors_before_the_stream_are_http_statuses(harness_factory):
    async with harness_factory(turn_wait_seconds=0.1) as h:
        h.llm.extend([[call("prompt_user", question="Where from?")]])
        await h.chat("cab", session_id="owned", user_id="alice")
        foreign = await h.client.post("/chat/stream", json={"query": "x", "session_id": "owned",
                                                            "user_id": "bob"})
        assert foreign.status_code == 403
        assert (await h.client.post("/chat/stream", json={"query": ""})).status_code == 422
        release = asyncio.Event()

        async def slow(request):
            await release.wait()
            return [call("prompt_user", question="?")]

        h.llm.extend([slow])
        running = asyncio.create_task(h.chat("hello", session_id="owned", user_id="alice"))
        await asyncio.sleep(0.05)
        busy = await h.client.post("/chat/stream", json={"query": "x", "session_id": "owned",
                                                         "user_id": "alice"})
        assert busy.status_code == 409
        release.set()
        await running


def test_client_disconnect_cancels_the_turn():
    cancelled = threading.Event()

    async def hang(request):
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    llm = ScriptedLLM([[call("search_places", text_query="MG Road")], hang,
                       [call("prompt_user", question="Still there?")]])
    app = create_app(make_settings(), Overrides(llm=llm))
    with serve(app, lifespan=True) as url, httpx.Client(base_url=url, timeout=10) as client:
        with client.stream("POST", "/chat/stream",
                           json={"query": "MG Road", "session_id": "gone"}) as response:
            for line in response.iter_lines():
                if line.startswith("event: step"):
                    break  # leave after the first step
        assert cancelled.wait(10), "the turn was not cancelled"
        assert client.get("/session/gone").status_code == 404  # nothing half-saved
        # The session's lock was released: the next turn runs at once.
        after = client.post("/chat", json={"query": "again", "session_id": "gone"})
        assert after.status_code == 200 and after.json()["query"] == "Still there?"


async def test_voice_turn_end_to_end_on_embedded_speech(harness):
    spoken = await harness.client.post("/synthesize/", json={
        "text": "I need a cab from MG Road to Koramangala."}, headers={"Accept": "audio/wav"})
    seen = {}

    def ask(request):
        seen["query"] = request.messages[-1].content
        return [call("prompt_user", question="When should the cab come?")]

    harness.llm.extend([ask])
    response = await harness.client.post(
        "/voice", files={"audio": ("q.wav", spoken.content, "audio/wav")},
        data={"session_id": "voice-1", "user_id": "12345"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert "mg road" in body["transcript"].lower() and "koramangala" in body["transcript"].lower()
    assert seen["query"] == body["transcript"]
    assert body["status_code"] == "201" and body["query"] == "When should the cab come?"
    assert body["audio_mime"] == "audio/webm"
    assert decode(base64.b64decode(body["audio_base64"]), 60).seconds > 1
    assert set(body["timings"]) == {"stt_ms", "agent_ms", "tts_ms"}
    # the real recognizer and voice took time; the scripted model next to none
    assert body["timings"]["stt_ms"] > 0 and body["timings"]["tts_ms"] > 0

    result = {"pickup_location": "MG Road", "destination": "Koramangala",
              "date": "2026-11-26", "time": "09:00", "preferences": "sedan"}
    harness.llm.extend([[call("final_answer", **result)]])
    spoken = await harness.client.post("/synthesize/", json={"text": "Tomorrow at nine."},
                                       headers={"Accept": "audio/wav"})
    final = (await harness.client.post(
        "/voice", files={"audio": ("a.wav", spoken.content, "audio/wav")},
        data={"session_id": "voice-1", "user_id": "12345"})).json()
    assert final["status_code"] == "200" and final["final_response"] == result
    assert decode(base64.b64decode(final["audio_base64"]), 60).seconds > 3  # spoken summary


async def test_voice_errors(harness):
    assert (await harness.client.post("/voice", files={
        "audio": ("e.wav", b"", "audio/wav")})).status_code == 400
    assert (await harness.client.post("/voice", data={"session_id": "x"})).status_code == 422
    bad_id = await harness.client.post("/voice", files={"audio": ("e.wav", b"x", "audio/wav")},
                                       data={"session_id": "../etc"})
    assert bad_id.status_code == 422
