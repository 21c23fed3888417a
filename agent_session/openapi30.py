"""The OpenAPI 3.0.3 document that watsonx Orchestrate and watsonx Assistant import as tools.

FastAPI (with Pydantic 2) writes OpenAPI 3.1 only, which both importers reject. This derives the
3.0 document from the app's own 3.1 one, so it cannot drift from the routes: it keeps only the
operations a planner should call, inlines every `$ref` (importers differ in how far they follow
them), and rewrites the 3.1 constructs 3.0 lacks (`anyOf` with null becomes `nullable`, type
lists, `const`, `examples`, numeric `exclusiveMinimum`). No `anyOf`/`oneOf`/`allOf` is left:
Assistant refuses them.
"""

from __future__ import annotations

from typing import Any

# The operations a planner calls: (method, path). Everything else (multipart speech, streams,
# listings) stays out of the importable document.
PLANNER_OPERATIONS = (("post", "/chat"), ("get", "/session/{session_id}"),
                      ("delete", "/session/{session_id}"))
SECURITY_SCHEMES = {
    "ApiKeyAuth": {"type": "apiKey", "in": "header", "name": "x-api-key",
                   "description": "One of the service's API_KEYS."},
    "BearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "One of the service's API_KEYS as a Bearer token."},
}
OPERATION_FIELDS = ("operationId", "summary", "description", "tags", "parameters",
                    "requestBody", "responses")
# Schema keywords of JSON Schema 2020-12 that OpenAPI 3.0's schema object does not have.
DROPPED_KEYWORDS = {"$schema", "$id", "$defs", "contentMediaType", "contentEncoding",
                    "prefixItems", "unevaluatedProperties", "dependentSchemas"}


AGENT_CHAT = ("post", "/agents/{agent}/chat")


def importable_spec(full: dict[str, Any], server_url: str, api_keys: bool,
                    agents: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    """The 3.0.3 document of `PLANNER_OPERATIONS` from FastAPI's `app.openapi()`, naming
    `server_url` as its one server; with `api_keys`, both key schemes are required. With
    several `agents` ((name, description) pairs), each gets its own chat operation,
    `POST /agents/{name}/chat` as `chat_<name>`, in place of the single `chat`."""
    schemas = full.get("components", {}).get("schemas", {})
    paths: dict[str, dict[str, Any]] = {}
    several = agents is not None and len(agents) > 1
    for method, path in PLANNER_OPERATIONS:
        if several and path == "/chat":
            continue
        operation = _operation(full["paths"][path][method], schemas)
        if path == "/chat":  # one agent: naming it is noise a planner could get wrong
            content = operation.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema", {})
            body.get("properties", {}).pop("agent", None)
        paths.setdefault(path, {})[method] = operation
    for name, description in agents if several and agents else []:
        method, path = AGENT_CHAT
        operation = _operation(full["paths"][path][method], schemas)
        operation["operationId"] = "chat_" + name.replace("-", "_")
        operation["summary"] = f"Talk to the {name} agent (one turn)"
        operation["description"] = f"{description}\n\n{operation.get('description', '')}"
        operation["parameters"] = [p for p in operation.get("parameters", [])
                                   if p.get("name") != "agent"] or None
        if operation["parameters"] is None:
            del operation["parameters"]
        paths[f"/agents/{name}/chat"] = {method: operation}
    info = full["info"]
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": info["title"], "version": info["version"],
                 "description": "A stateful conversational agent: send each user message to "
                                "`chat` and pass the returned session_id back on the next."},
        "servers": [{"url": server_url.rstrip("/")}],
        "paths": paths,
    }
    if api_keys:
        doc["components"] = {"securitySchemes": SECURITY_SCHEMES}
        doc["security"] = [{name: []} for name in SECURITY_SCHEMES]
    return doc


def _operation(operation: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    out = {key: to_30(operation[key], schemas) for key in OPERATION_FIELDS if key in operation}
    responses = {str(code): response for code, response in out.get("responses", {}).items()
                 if str(code).isdigit()}
    successes = sorted(code for code in responses if code.startswith("2"))
    out["responses"] = {code: response for code, response in sorted(responses.items())
                        if not code.startswith("2") or code == successes[0]}
    return out


def to_30(node: Any, schemas: dict[str, Any]) -> Any:
    """`node` (any part of a 3.1 document) with `$ref`s inlined and schemas in 3.0 form."""
    if isinstance(node, list):
        return [to_30(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target = schemas[node["$ref"].rsplit("/", 1)[-1]]
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return to_30({**target, **siblings}, schemas)
    for combiner in ("anyOf", "oneOf"):
        if combiner in node:
            return _union(node, combiner, schemas)
    if "allOf" in node:
        merged: dict[str, Any] = {}
        for part in node["allOf"]:
            merged.update(to_30(part, schemas))
        rest = {k: v for k, v in node.items() if k != "allOf"}
        return to_30({**merged, **rest}, schemas)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROPPED_KEYWORDS:
            continue
        if key in ("properties", "patternProperties") and isinstance(value, dict):
            out[key] = {name: to_30(schema, schemas) for name, schema in value.items()}
        elif key == "type":
            out.update(_type(value))
        elif key == "const":
            out["enum"] = [value]
        elif key == "examples" and isinstance(value, list):
            if value:
                out["example"] = value[0]
        elif key in ("exclusiveMinimum", "exclusiveMaximum") and not isinstance(value, bool):
            out["minimum" if key == "exclusiveMinimum" else "maximum"] = value
            out[key] = True
        else:
            out[key] = to_30(value, schemas)
    return out


def _type(value: str | list[str]) -> dict[str, Any]:
    """3.0 has one type and no "null": a null type becomes `nullable`."""
    kinds = [value] if isinstance(value, str) else list(value)
    concrete = [kind for kind in kinds if kind != "null"]
    out: dict[str, Any] = {"type": concrete[0]} if concrete else {}
    if len(concrete) < len(kinds):
        out["nullable"] = True
    return out


def _union(node: dict[str, Any], combiner: str, schemas: dict[str, Any]) -> dict[str, Any]:
    """`T | None` becomes `T` + `nullable`; a wider union becomes a schema with no type (any
    value), described in words, since 3.0 importers refuse `anyOf`/`oneOf`."""
    members = node[combiner]
    concrete = [member for member in members if member.get("type") != "null"]
    rest = {k: v for k, v in node.items() if k != combiner}
    if len(concrete) == 1:
        out = to_30({**concrete[0], **rest}, schemas)
    else:
        out = to_30(rest, schemas)
        kinds = ", ".join(str(to_30(m, schemas).get("type", "object")) for m in concrete)
        out.setdefault("description", f"One of: {kinds}.")
    if len(concrete) < len(members):
        out["nullable"] = True
    return out
