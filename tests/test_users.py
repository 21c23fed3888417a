"""The user directory file."""

from __future__ import annotations

import json

from agent_session.tools.users import UserDirectory


def test_bundled_sample_users():
    users = UserDirectory()
    assert "Elm Street" in users.address("12345", "home")
    assert "EGL" in users.address("12345", "office")
    assert "Pine Lane" in users.address("67890", "home")
    assert "Maple Road" in users.address("67890", "office")
    assert users.address("99999", "home") is None
    assert users.address("12345", "gym") is None


def test_users_file_replaces_the_sample(tmp_path):
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"users": {"42": {"addresses": {"home": "1 Test Road"}}}}))
    users = UserDirectory(path)
    assert users.address("42", "home") == "1 Test Road"
    assert not users.knows("12345")
