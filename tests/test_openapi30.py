"""`GET /openapi-3.0.json`: a valid OpenAPI 3.0.3 document that watsonx Assistant's and
Orchestrate's importers accept (the Orchestrate ADK itself runs in tests/test_orchestrate.py)."""

from __future__ import annotations

import json
from typing import Any

from openapi_spec_validator import validate

from agent_session.openapi30 import importable_spec, to_30

OPERATIONS = {("post", "/chat"): "chat", ("get", "/session/{session_id}"): "get_session",
              ("delete", "/session/{session_id}"): "delete_session"}


def walk(node: Any, path: str = "$"):
    """Every (path, key, value) in a JSON document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{path}[{i}]")


async def test_valid_30_with_the_three_operations(harness):
    response = await harness.client.get("/openapi-3.0.json")
    assert response.status_code == 200
    doc = response.json()
    validate(doc)
    assert doc["openapi"] == "3.0.3"
    assert doc["servers"] == [{"url": "http://test"}]
    found = {(m, p): op["operationId"] for p, ops in doc["paths"].items() for m, op in ops.items()}
    assert found == OPERATIONS
    assert "security" not in doc and "components" not in doc  # the service is open


async def test_assistant_rules(harness):
    """No anyOf/oneOf/allOf, exactly one 2xx and only numeric codes, a summary and a planner's
    description on each operation, JSON bodies only, under 4 MB."""
    doc = (await harness.client.get("/openapi-3.0.json")).json()
    assert len(json.dumps(doc).encode()) < 4 * 1024 * 1024
    assert not [p for p, key, _ in walk(doc) if key in ("anyOf", "oneOf", "allOf", "$ref")]
    for ops in doc["paths"].values():
        for op in ops.values():
            assert op["summary"] and len(op["description"]) > 80
            assert all(code.isdigit() for code in op["responses"])
            assert [c for c in op["responses"] if c.startswith("2")] == ["200"]
            bodies = [op.get("requestBody", {}).get("content", {})] + [
                r.get("content", {}) for r in op["responses"].values()]
            assert all(set(content) <= {"application/json"} for content in bodies)
    chat = doc["paths"]["/chat"]["post"]
    assert "session_id" in chat["description"] and '"201"' in chat["description"]
    request = chat["requestBody"]["content"]["application/json"]["schema"]
    assert request["properties"]["session_id"]["nullable"] is True
    assert request["properties"]["session_id"]["type"] == "string"
    assert request["required"] == ["query"]


async def test_keys_declare_both_schemes_and_guard_the_document(harness_factory):
    async with harness_factory(api_keys="k1") as h:
        assert (await h.client.get("/openapi-3.0.json")).status_code == 401
        doc = (await h.client.get("/openapi-3.0.json", headers={"X-API-Key": "k1"})).json()
        validate(doc)
        schemes = doc["components"]["securitySchemes"]
        assert schemes["ApiKeyAuth"] == {**schemes["ApiKeyAuth"], "type": "apiKey",
                                         "in": "header", "name": "x-api-key"}
        assert schemes["BearerAuth"]["type"] == "http"
        assert schemes["BearerAuth"]["scheme"] == "bearer"
        assert doc["security"] == [{"ApiKeyAuth": []}, {"BearerAuth": []}]
        bearer = await h.client.get("/openapi-3.0.json", headers={"Authorization": "Bearer k1"})
        assert bearer.status_code == 200


async def test_server_is_public_base_url_or_what_a_trusted_proxy_forwards(harness_factory):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "agents.example.com"}
    async with harness_factory() as h:  # httpx's ASGI client comes from 127.0.0.1: trusted
        doc = (await h.client.get("/openapi-3.0.json", headers=forwarded)).json()
        assert doc["servers"] == [{"url": "https://agents.example.com"}]
    async with harness_factory(forwarded_allow_ips="10.0.0.0/8") as h:  # not trusted
        doc = (await h.client.get("/openapi-3.0.json", headers=forwarded)).json()
        assert doc["servers"] == [{"url": "http://test"}]
    async with harness_factory(public_base_url="https://cab.example.org/") as h:
        doc = (await h.client.get("/openapi-3.0.json", headers=forwarded)).json()
        assert doc["servers"] == [{"url": "https://cab.example.org"}]


def test_31_constructs_become_30():
    schemas = {"Inner": {"type": "object", "properties": {"type": {"type": "string"}}}}
    assert to_30({"anyOf": [{"$ref": "#/components/schemas/Inner"}, {"type": "null"}],
                  "title": "T"}, schemas) == {
        "type": "object", "properties": {"type": {"type": "string"}}, "title": "T",
        "nullable": True}
    assert to_30({"type": ["integer", "null"]}, {}) == {"type": "integer", "nullable": True}
    assert to_30({"const": "x", "examples": ["a", "b"]}, {}) == {"enum": ["x"], "example": "a"}
    assert to_30({"type": "number", "exclusiveMinimum": 0}, {}) == {
        "type": "number", "minimum": 0, "exclusiveMinimum": True}
    wide = to_30({"anyOf": [{"type": "string"}, {"type": "integer"}]}, {})
    assert wide == {"description": "One of: string, integer."}


def test_one_success_response_is_kept():
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), op in OPERATIONS.items():
        paths.setdefault(path, {})[method] = {
            "operationId": op, "summary": "s", "description": "d",
            "parameters": [{"name": "session_id", "in": "path", "required": True,
                            "schema": {"type": "string"}}] if "{" in path else [],
            "responses": {"200": {"description": "ok"}, "202": {"description": "a"},
                          "default": {"description": "x"}, "404": {"description": "n"}}}
    full = {"info": {"title": "t", "version": "1"}, "paths": paths}
    doc = importable_spec(full, "http://h/", api_keys=False)
    validate(doc)
    assert set(doc["paths"]["/chat"]["post"]["responses"]) == {"200", "404"}
    assert doc["servers"] == [{"url": "http://h"}]
