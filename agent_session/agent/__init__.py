"""The agent: action registry, agent definitions and the action loop."""
