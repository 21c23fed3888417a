"""Scripted-conversation evaluation: `python -m agent_session.eval FILE`."""
