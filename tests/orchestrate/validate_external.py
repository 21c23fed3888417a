"""Run IBM's external-agent validator (the class behind `orchestrate evaluations
validate-external`, from ibm-watsonx-orchestrate-evaluation-framework) against a service URL,
and print its verdict as JSON. Runs in the ADK's own venv:

    HOME=<scratch dir> .venv-orchestrate/bin/python tests/orchestrate/validate_external.py \\
        URL KEY MESSAGE

Exit 0 with {"success", "events", "messages"} on stdout."""

from __future__ import annotations

import json
import sys


def main() -> int:
    url, key, message = sys.argv[1:4]
    from agentops.external_agent.external_validate import ExternalAgentValidation

    validation = ExternalAgentValidation(credential=key, auth_scheme="API_KEY", service_url=url)
    verdict = validation.call_validation(message)
    events = [json.loads(e) if isinstance(e, str) else e
              for e in verdict.get("logged_events") or []]  # the events as it read them
    print(json.dumps({"success": verdict.get("success"), "events": events,
                      "messages": verdict.get("messages")}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
