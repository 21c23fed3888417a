"""The SDK's HTTP client: its payload encoding must say exactly what the SDK's own would."""

from __future__ import annotations

import json

import httpx
from ibm_watsonx_ai.utils.utils import NumpyTypeEncoder

from agent_session.llm.http_client import WatsonxHttpClient


async def test_payloads_encode_as_the_sdk_would_with_tools_encoded_once():
    client = WatsonxHttpClient(4, True, httpx.Timeout(5))
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    payload = {"model_id": "m", "messages": [{"role": "user", "content": "héllo \"x\""}],
               "tools": tools, "temperature": 0}
    assert json.loads(client._encode(payload)) == payload
    assert client._encode(payload) == client._encode(dict(payload))
    encoded_tools = client._tools_json
    other = [{"type": "function", "function": {"name": "g"}}]  # another list: encoded anew
    assert json.loads(client._encode({**payload, "tools": other}))["tools"] == other
    assert client._tools_json != encoded_tools
    for plain in ({"a": 1}, {"tools": tools}, {"tools": []}, [1, 2]):
        assert json.loads(client._encode(plain)) == plain
        if not (isinstance(plain, dict) and plain.get("tools")):
            assert client._encode(plain) == json.dumps(plain, cls=NumpyTypeEncoder)
    await client.aclose()
