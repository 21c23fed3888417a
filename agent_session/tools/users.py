"""The user directory: saved addresses per user, from a JSON file (`USERS_FILE`)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any


class UserDirectory:
    def __init__(self, path: Path | None = None) -> None:
        source = path or resources.files("agent_session") / "data" / "users.json"
        data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
        self._users: dict[str, dict[str, Any]] = {
            str(uid): record for uid, record in data.get("users", {}).items()
        }

    def address(self, user_id: str, address_type: str) -> str | None:
        record = self._users.get(user_id)
        if record is None:
            return None
        return record.get("addresses", {}).get(address_type)

    def knows(self, user_id: str) -> bool:
        return user_id in self._users
