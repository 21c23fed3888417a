"""The service uses other packages through their public APIs only: no import of a private
(`_x`) module or name from outside `agent_session`, and no reaching into another object's
private attributes (`obj._x` where `obj` is not `self` or `cls`)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "agent_session"


def private(name: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in name.split("."))


def findings() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE.parent)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and \
                    not node.module.startswith("agent_session"):
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                found += [f"{where}:{node.lineno} imports {n}" for n in names if private(n)]
            elif isinstance(node, ast.Import):
                found += [f"{where}:{node.lineno} imports {a.name}" for a in node.names
                          if private(a.name)]
            elif isinstance(node, ast.Attribute) and private(node.attr):
                owner = node.value
                if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                    continue
                if isinstance(owner, ast.Call) and getattr(owner.func, "id", "") == "super":
                    continue
                found.append(f"{where}:{node.lineno} reaches into .{node.attr}")
    return found


def test_no_private_names_of_other_packages():
    assert len(list(PACKAGE.rglob("*.py"))) > 50  # the scan sees the package
    assert findings() == []
