"""read_yaml: the fast loader reads the project's data exactly as PyYAML's safe loader does."""

from __future__ import annotations

import pytest
import yaml

from bot.config import PROJECT_ROOT
from bot.yaml_files import read_yaml


@pytest.mark.parametrize(
    "name",
    ["data/safety/categories/distant_spread.yml", "data/safety/examples/signoffs.yml",
     "data/eval/safety/dev.yml", "data/content/clinic.yml"],
)  # fmt: skip
def test_same_data_as_the_safe_loader(name):
    path = PROJECT_ROOT / name
    assert read_yaml(path) == yaml.safe_load(path.read_text(encoding="utf-8"))


def test_an_empty_file_is_none_and_objects_are_refused(tmp_path):
    empty = tmp_path / "empty.yml"
    empty.write_text("")
    assert read_yaml(empty) is None
    hostile = tmp_path / "hostile.yml"
    hostile.write_text("!!python/object/apply:os.system ['echo hi']")
    with pytest.raises(yaml.YAMLError):
        read_yaml(hostile)
