"""Load an external-agent YAML with the watsonx Orchestrate ADK, as `orchestrate agents import`
does, and print the parsed agent as JSON. Runs in the ADK's own venv:

    HOME=<scratch dir> .venv-orchestrate/bin/python tests/orchestrate/load_external_agent.py F"""

from __future__ import annotations

import json
import sys


def main() -> int:
    from ibm_watsonx_orchestrate.agent_builder.agents import ExternalAgent

    agent = ExternalAgent.from_spec(sys.argv[1])
    print(json.dumps(agent.model_dump(mode="json"), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
