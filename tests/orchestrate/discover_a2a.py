"""Discover an A2A agent from its card with the watsonx Orchestrate ADK (`orchestrate agents
discover`), and print the external-agent spec it makes of it. Runs in the ADK's own venv:

    HOME=<scratch dir> .venv-orchestrate/bin/python tests/orchestrate/discover_a2a.py BASE_URL"""

from __future__ import annotations

import json
import sys


def main() -> int:
    from ibm_watsonx_orchestrate.agent_builder.agents.a2a_discovery import A2ADiscoveryService

    with A2ADiscoveryService() as discovery:
        print(json.dumps(discovery.discover_and_convert(sys.argv[1]), default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
