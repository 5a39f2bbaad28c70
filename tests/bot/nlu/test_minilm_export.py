"""Where the ONNX export lives and when it is made again (no export runs here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.nlu import minilm_export
from bot.nlu.minilm_export import cosines, ensure_onnx, onnx_path


def test_the_file_name_changes_with_the_export_code(tmp_path, monkeypatch):
    before = onnx_path(tmp_path)
    monkeypatch.setattr(minilm_export, "EXPORT_VERSION", minilm_export.EXPORT_VERSION + 1)
    assert onnx_path(tmp_path) != before
    assert before.parent == tmp_path and before.suffix == ".onnx"


def test_an_existing_export_is_reused_without_exporting(tmp_path, monkeypatch):
    target = onnx_path(tmp_path)
    target.write_bytes(b"exported")
    monkeypatch.setattr(minilm_export, "export", lambda *a: pytest.fail("exported again"))
    assert ensure_onnx(tmp_path) == target


def test_a_missing_export_is_made_once_under_its_final_name(tmp_path, monkeypatch):
    calls: list[Path] = []

    def fake_export(target: Path, model_dir: object = None) -> None:
        calls.append(target)
        target.write_bytes(b"exported")

    monkeypatch.setattr(minilm_export, "export", fake_export)
    first = ensure_onnx(tmp_path / "encoder")
    second = ensure_onnx(tmp_path / "encoder")
    assert first == second == calls[0] and len(calls) == 1


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ([[1.0, 0.0]], [[1.0, 0.0]], 1.0),
        ([[1.0, 0.0]], [[0.0, 2.0]], 0.0),
        ([[3.0, 4.0]], [[-3.0, -4.0]], -1.0),
    ],
)
def test_cosines(a, b, expected):
    assert cosines(np.array(a), np.array(b))[0] == pytest.approx(expected)
