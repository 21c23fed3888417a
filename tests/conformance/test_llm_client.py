"""LLM client conformance (watsonx and openai against their fakes, the bundled local model for
real, the scripted stand-in): the next action as data, a JSON object for a schema, readiness."""

from __future__ import annotations

from agent_session.agent.actions import ActionRegistry, parse_arguments
from agent_session.agent.definition import ending_actions, load_definition
from agent_session.events import UserMessage
from agent_session.llm.base import ActionCall, JSONRequest, LLMReply, LLMRequest

ASKING = ("You book cabs. The user has not said where from. Call prompt_user to ask: "
          "Where should the cab pick you up from?")
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def prompt_user_spec() -> dict:
    return next(spec for spec in ActionRegistry(ending_actions(load_definition())).specs()
                if spec["name"] == "prompt_user")


async def test_it_names_itself_and_is_ready(model):
    assert isinstance(model.client.name, str) and model.client.name
    await model.client.check()


async def test_complete_answers_an_action_of_the_request_as_data(model):
    model.ask("Where should the cab pick you up from?")
    reply = await model.client.complete(LLMRequest(
        system_prompt=ASKING, messages=[UserMessage(content="I need a cab from Whitefield")],
        actions=[prompt_user_spec()], session_id="conformance"))
    if model.received is not None:  # what the backend was sent: the user's words, the prompt
        sent = model.received()
        assert "I need a cab from Whitefield" in sent and "You book cabs" in sent
    assert isinstance(reply, LLMReply) and reply.actions
    action = reply.actions[0]
    assert isinstance(action, ActionCall) and action.name == "prompt_user"
    question = parse_arguments(action.arguments)["question"]
    assert isinstance(question, str) and question.strip()
    if model.real:  # the fakes report no usage; the real model counted what it read
        assert reply.prompt_tokens > 20 and reply.completion_tokens > 0


async def test_complete_json_answers_an_object_for_the_schema(model):
    model.fill({"city": "Pune"})
    answer = await model.client.complete_json(JSONRequest(messages=[
        {"role": "system", "content": "Extract the city the user lives in, as JSON."},
        {"role": "user", "content": "I live in Pune."}], schema=CITY, session_id="conformance"))
    assert isinstance(answer, dict) and isinstance(answer.get("city"), str)
    if model.real:  # a real model read it; the fakes answer what they were told
        assert "pune" in answer["city"].lower()
