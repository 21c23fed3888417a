"""Import an OpenAPI document as watsonx Orchestrate tools, as `orchestrate tools import -k
openapi` does, and print the tool specs as one JSON list. Runs in the ADK's own venv:

    HOME=<scratch dir> .venv-orchestrate/bin/python tests/orchestrate/import_tools.py SPEC.json

Exit 0 with the tools on stdout; 1 with the ADK's error on stderr. The ADK's `BadRequest` calls
`sys.exit(1)` unless `--debug` is in `sys.argv`, and its log goes to stdout: both handled here."""

from __future__ import annotations

import asyncio
import json
import logging
import sys


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: import_tools.py SPEC.json", file=sys.stderr)
        return 2
    path = sys.argv[1]
    sys.argv = [sys.argv[0], path, "--debug"]  # before the ADK is imported
    from ibm_watsonx_orchestrate.agent_builder.tools.openapi_tool import (
        create_openapi_json_tools_from_content,
    )

    for name in ("ibm_watsonx_orchestrate", "ibm_watsonx_orchestrate_core",
                 "ibm_watsonx_orchestrate_clients"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(sys.stderr)
    with open(path, encoding="utf-8") as file:
        doc = json.load(file)
    try:
        tools = asyncio.run(create_openapi_json_tools_from_content(doc))
    except Exception as exc:  # the ADK raises BadRequest, KeyError, ValueError, pydantic errors
        print(f"import failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    specs = [tool.__tool_spec__.model_dump(mode="json", exclude_unset=True, exclude_none=True,
                                           by_alias=True) for tool in tools]
    json.dump(specs, sys.stdout, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
