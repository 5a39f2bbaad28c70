"""The layout, docs/architecture.md and the imports agree: which package may import which.

Change this table and the "What imports what" list in docs/architecture.md together.
"""

from __future__ import annotations

import ast
from collections import defaultdict

from bot.config import PROJECT_ROOT

ALLOWED = {
    "actions": {"bot.cases", "bot.config", "bot.content", "bot.db", "bot.intents", "bot.reply"},
    "bot.db": set(),
    "bot.content": {"bot.db", "bot.intents"},
    "bot.cases": {"bot.config", "bot.content", "bot.db", "bot.reply"},
    "bot.safety": {"bot.config", "bot.intents", "bot.yaml_files"},
    "bot.nlu": {"bot.config", "bot.intents", "bot.safety", "bot.rasa_server"},
    "bot.rasa_server": {
        "bot.cases",
        "bot.config",
        "bot.content",
        "bot.db",
        "bot.intents",
        "bot.reply",
    },  # fmt: skip
    "bot.web": {
        "bot.cases",
        "bot.config",
        "bot.content",
        "bot.db",
        "bot.intents",
        "bot.reply",
        "bot.maintain",
        "bot.rasa_server",
    },  # fmt: skip
    "bot.maintain": {
        "bot.cases",
        "bot.config",
        "bot.db",
        "bot.intents",
        "bot.nlu",
        "bot.safety",
        "bot.ops",
        "bot.rasa_server",
    },  # fmt: skip
    "bot.ops": {"bot.cases", "bot.config", "bot.content", "bot.db", "bot.maintain"},
    "bot.cli": {
        "bot.cases",
        "bot.config",
        "bot.content",
        "bot.db",
        "bot.maintain",
        "bot.ops",
        "bot.rasa_server",  # `bot evaluate` scores messages as the server understands them
        "bot.safety",
        "bot.web",
    },  # fmt: skip
}


def _package(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "actions":
        return "actions"
    if parts[0] != "bot":
        return None
    return ".".join(parts[:2]) if len(parts) > 1 else "bot"


def _imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for path in [*(PROJECT_ROOT / "bot").rglob("*.py"), *(PROJECT_ROOT / "actions").rglob("*.py")]:
        relative = path.relative_to(PROJECT_ROOT).with_suffix("")
        owner = _package(".".join(relative.parts))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules: list[str] = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                modules = [node.module]
                if node.module == "bot":  # from bot import casework
                    modules += [f"bot.{alias.name}" for alias in node.names]
            for module in modules:
                package = _package(module)
                if package and package not in {owner, "bot"}:
                    found[owner].add(package)
    return found


def test_every_package_imports_only_what_the_map_allows():
    imports = _imports()
    unexpected = {
        owner: sorted(used - ALLOWED.get(owner, set()))
        for owner, used in imports.items()
        if used - ALLOWED.get(owner, set()) and owner != "bot"
    }
    assert unexpected == {}


def test_nothing_in_bot_imports_the_actions():
    assert all("actions" not in used for owner, used in _imports().items() if owner != "actions")


def test_every_package_of_the_map_is_in_the_architecture_doc():
    doc = (PROJECT_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    for package in ALLOWED:
        folder = package.split(".")[-1] + "/"
        assert folder in doc, folder
