"""The form strategy with a scripted extractor: each turn is one JSON answer from the model;
everything after it (grounding, resolution by the cab actions, what to ask) is deterministic."""

from __future__ import annotations

import json

import pytest

from agent_session.agent.slots import ground
from agent_session.errors import LLMBadResponse, LLMTimeout

from .test_streaming import parse_events

PICKUP = "Where should the cab pick you up from?"
DESTINATION = "Where are you going?"
DATE = "What day do you need the cab?"
TIME = "What time should it pick you up?"
VEHICLE = "Which vehicle would you like?"


@pytest.fixture
async def form(harness_factory):
    async with harness_factory(agent_strategy="form") as h:
        yield h


async def say(h, query: str, extracted: dict | None, session_id: str = "f1",
              user_id: str | None = "12345") -> dict:
    """One turn; `extracted` is the model's answer (None: a short typed answer the service
    reads without the model)."""
    if extracted is not None:
        h.llm.extend([extracted])
    response = await h.chat(query, session_id=session_id, user_id=user_id)
    assert response.status_code == 200, response.text
    return response.json()


async def test_everything_in_one_message_books_in_one_turn_with_one_model_call(form):
    body = await say(form, "cab from MG Road to Koramangala tomorrow at 9am, sedan please", {
        "pickup_location": "MG Road", "destination": "Koramangala", "date": "tomorrow",
        "time": "9am", "preferences": "sedan"})
    assert body["status_code"] == "200"
    assert body["final_response"] == {
        "pickup_location": "MG Road, Bengaluru, India",
        "destination": "Koramangala, Bengaluru, India",
        "date": "2026-11-26", "time": "09:00", "preferences": "sedan"}
    assert len(form.llm.requests) == 1
    stored = (await form.client.get("/session/f1")).json()["messages"]
    assert [(m["role"], m.get("name")) for m in stored] == [
        ("user", None), ("tool", "search_places"), ("tool", "search_places"),
        ("assistant", None)]  # the date and time are typed slots: read without an action
    assert stored[-1]["kind"] == "final"


async def test_questions_come_in_slot_order_and_answers_fill_them(form):
    assert (await say(form, "hello, I need a cab", {}))["query"] == PICKUP
    assert (await say(form, "Whitefield", {"pickup_location": "Whitefield"}))["query"] == \
        DESTINATION
    assert (await say(form, "Electronic City", {"destination": "Electronic City"}))["query"] \
        == DATE
    assert (await say(form, "in 2 days", {"date": "in 2 days"}))["query"] == TIME
    calls = len(form.llm.requests)
    assert (await say(form, "5 pm", None))["query"] == VEHICLE  # a time alone: no model call
    assert len(form.llm.requests) == calls
    body = await say(form, "any car is fine", {"preferences": "any car"})
    assert body["status_code"] == "200"
    assert body["final_response"]["date"] == "2026-11-27"
    assert body["final_response"]["time"] == "17:00"
    assert body["final_response"]["preferences"] == "any car"
    # The model saw the last question and what is known so far, in the user's own words.
    last = form.llm.requests[-1]
    assert last.messages[0]["role"] == "system"
    assert "Known: pickup_location: Whitefield; destination: Electronic City" in \
        last.messages[-1]["content"]
    assert f"Last question: {VEHICLE}" in last.messages[-1]["content"]
    assert last.schema["properties"]["time"] == {"type": "string"}


async def test_several_slots_in_one_answer_are_all_taken(form):
    await say(form, "book me a cab to Juhu Beach", {"destination": "Juhu Beach"},
              user_id="67890")
    await say(form, "Marine Drive", {"pickup_location": "Marine Drive"}, user_id="67890")
    body = await say(form, "tomorrow at half past seven in the evening, a sedan", {
        "date": "tomorrow", "time": "half past seven in the evening", "preferences": "a sedan"},
        user_id="67890")
    assert body["status_code"] == "200"
    assert body["final_response"]["time"] == "19:30"
    assert body["final_response"]["pickup_location"] == "Marine Drive, Mumbai, India"


async def test_corrections_replace_and_re_resolve_a_value(form):
    first = await say(form, "Cab from MG Road to Koramangala tomorrow at 9am", {
        "pickup_location": "MG Road", "destination": "Koramangala", "date": "tomorrow",
        "time": "9am"})
    assert first["query"] == VEHICLE
    again = await say(form, "actually from Indiranagar", {"pickup_location": "Indiranagar"})
    assert again["query"] == VEHICLE
    await say(form, "make it 10 am instead", {"time": "10 am"})
    body = await say(form, "sedan", {"preferences": "sedan"})
    result = body["final_response"]
    assert result["pickup_location"] == "Indiranagar, Bengaluru, India"
    assert result["time"] == "10:00" and result["destination"].startswith("Koramangala")
    steps = [m for m in (await form.client.get("/session/f1")).json()["messages"]
             if m["role"] == "tool"]
    assert [s["arguments"] for s in steps if s["name"] == "search_places"][-1] == {
        "text_query": "Indiranagar"}


async def test_a_rejected_value_is_cleared_and_asked_again_with_the_reason(form):
    body = await say(form, "Book a cab from Xyzzy Nagar to Jayanagar tomorrow at 10 am, sedan", {
        "pickup_location": "Xyzzy Nagar", "destination": "Jayanagar", "date": "tomorrow",
        "time": "10 am", "preferences": "sedan"})
    assert body["query"] == f"I couldn't find Xyzzy Nagar. {PICKUP}"
    body = await say(form, "Ulsoor", {"pickup_location": "Ulsoor"})
    assert body["status_code"] == "200"
    assert body["final_response"]["pickup_location"] == "Ulsoor, Bengaluru, India"


async def test_a_past_date_and_a_missing_saved_address_are_refused(form):
    body = await say(form, "from my home, last Monday", {
        "pickup_location": "my home", "date": "last Monday"}, user_id=None, session_id="anon")
    assert body["query"] == f"I couldn't find a saved home address for you. {PICKUP}"
    body = await say(form, "from MG Road", {"pickup_location": "MG Road"}, user_id=None,
                     session_id="anon")
    assert body["query"] == DESTINATION
    body = await say(form, "to Lalbagh Botanical Garden, on 2026-11-20", {
        "destination": "Lalbagh Botanical Garden", "date": "2026-11-20"}, user_id=None,
        session_id="anon")
    assert body["query"] == f"2026-11-20 is in the past. {DATE}"


async def test_saved_addresses_with_or_without_my(form):
    body = await say(form, "From office to my home tomorrow at 6 pm, mini", {
        "pickup_location": "office", "destination": "my home", "date": "tomorrow",
        "time": "6 pm", "preferences": "mini"}, user_id="67890")
    assert body["final_response"]["pickup_location"] == \
        "7 Maple Road, Bandra Kurla Complex, Mumbai 400051"
    assert body["final_response"]["destination"] == "14 Pine Lane, Bandra West, Mumbai 400050"


async def test_an_answer_that_fills_nothing_gets_the_same_question(form):
    await say(form, "cab from MG Road to Koramangala tomorrow at 9am", {
        "pickup_location": "MG Road", "destination": "Koramangala", "date": "tomorrow",
        "time": "9am"})
    body = await say(form, "what's the weather like?", {})
    assert (body["status_code"], body["query"]) == ("201", VEHICLE)


async def test_grounding_drops_invented_values_and_words(form):
    """A small model fills gaps with guesses: words the user did not say are never booked."""
    body = await say(form, "cab from MG Road tomorrow", {
        "pickup_location": "MG Road", "destination": "Koramangala", "date": "tomorrow",
        "time": "9am", "preferences": "sedan"})
    assert body["query"] == DESTINATION
    state = (await form.client.get("/session/f1")).json()["messages"][-1]["form"]
    assert set(state["values"]) == {"pickup_location", "date"}
    assert ground("the MG Road area", "cab from mg road please") == "MG Road"
    assert ground("my office", "to office") == "office"
    assert ground("the", "the cab") is None and ground("SUV", "a sedan") is None
    assert ground("9am", "at 9 am") == "9am"


async def test_the_same_words_for_two_slots_go_to_the_slot_being_asked(form):
    await say(form, "cab from MG Road", {"pickup_location": "MG Road"})
    body = await say(form, "Koramangala", {"pickup_location": "Koramangala",
                                           "destination": "Koramangala"})
    assert body["query"] == DATE
    values = (await form.client.get("/session/f1")).json()["messages"][-1]["form"]["values"]
    assert values["pickup_location"].startswith("MG Road")
    assert values["destination"].startswith("Koramangala")


async def test_cancel_needs_a_cancel_word_and_clears_the_form(form):
    await say(form, "cab from MG Road", {"pickup_location": "MG Road"})
    body = await say(form, "hello again", {"intent": "cancel"})
    assert body["query"] == DESTINATION  # no cancel word: the model's guess is ignored
    body = await say(form, "forget it, cancel this", {"intent": "cancel"})
    assert (body["query"], body["outcome"], body["asking"]) == (
        "Okay, I've dropped that booking.", "cancelled", None)
    body = await say(form, "to Whitefield", {"destination": "Whitefield"})
    assert body["query"] == PICKUP  # a new task: the old pickup is gone
    assert "Known: nothing yet" in form.llm.requests[-1].messages[-1]["content"]


async def test_after_a_result_a_new_request_starts_a_new_booking(form):
    await say(form, "cab from MG Road to Koramangala tomorrow at 9am, sedan", {
        "pickup_location": "MG Road", "destination": "Koramangala", "date": "tomorrow",
        "time": "9am", "preferences": "sedan"})
    body = await say(form, "another one to Whitefield", {"destination": "Whitefield"})
    assert body["query"] == PICKUP
    assert "Known: nothing yet" in form.llm.requests[-1].messages[-1]["content"]


async def test_steps_stream_as_actions_run(form):
    form.llm.extend([{"pickup_location": "MG Road", "date": "tomorrow"}])
    response = await form.client.post("/chat/stream", json={
        "query": "from MG Road tomorrow", "session_id": "s1", "user_id": "12345"})
    events = parse_events(response.text)
    assert [kind for kind, _ in events] == ["step", "question"]
    assert events[0][1]["action"] == "search_places"
    assert events[0][1]["observation"]["places"][0]["name"] == "MG Road"
    assert events[-1][1]["query"] == DESTINATION


@pytest.mark.parametrize(("error", "status"), [(LLMTimeout("slow"), 504),
                                               (LLMBadResponse("garbage"), 502)])
async def test_a_failed_turn_changes_nothing(form, error, status):
    await say(form, "cab from MG Road", {"pickup_location": "MG Road"})
    before = (await form.client.get("/session/f1")).json()
    form.llm.extend([error])
    response = await form.chat("to Koramangala", session_id="f1", user_id="12345")
    assert response.status_code == status
    assert (await form.client.get("/session/f1")).json() == before


async def test_every_model_call_is_timed_in_metrics(form):
    await say(form, "cab from MG Road", {"pickup_location": "MG Road"})
    await say(form, "to Koramangala", {"destination": "Koramangala"})
    text = (await form.client.get("/metrics")).text
    line = next(x for x in text.splitlines()
                if x.startswith('agent_llm_call_seconds_count{backend="scripted"}'))
    assert float(line.split()[-1]) == 2


async def test_stored_question_carries_the_form_state(form):
    await say(form, "cab from MG Road", {"pickup_location": "MG Road"})
    last = (await form.client.get("/session/f1")).json()["messages"][-1]
    assert last["content"] == DESTINATION
    assert last["form"]["said"] == {"pickup_location": "MG Road"}
    assert last["form"]["asking"] == "destination"
    assert last["form"]["values"] == {"pickup_location": "MG Road, Bengaluru, India"}
    assert "extracted" not in json.dumps(last)  # the model's raw output is not shown
