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


def test_quantise_makes_the_dense_weights_int8_and_leaves_activation_products_float(tmp_path):
    """A dense layer (activation x weights) gets int8 weights; attention's activation x
    activation product stays a float MatMul, and the quantised graph computes nearly the same."""
    import onnx
    import onnxruntime
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    weights = numpy_helper.from_array(rng.normal(size=(8, 8)).astype(np.float32), "weights")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "weights"], ["dense"], name="dense"),
            helper.make_node("Transpose", ["dense"], ["dense_t"], name="t", perm=[1, 0]),
            helper.make_node("MatMul", ["dense", "dense_t"], ["scores"], name="scores"),
        ],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 8])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, [4, 4])],
        [weights],
    )
    source, target = tmp_path / "float.onnx", tmp_path / "int8.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), source)

    minilm_export.quantise(source, target)

    nodes = {node.name: node.op_type for node in onnx.load(target).graph.node}
    assert nodes["scores"] == "MatMul"  # activations only: left in float32
    assert "dense" not in nodes or nodes["dense"] != "MatMul"
    assert any(op in ("MatMulInteger", "DynamicQuantizeMatMul") for op in nodes.values())
    x = rng.normal(size=(4, 8)).astype(np.float32)
    run = [onnxruntime.InferenceSession(str(p)).run(None, {"x": x})[0] for p in (source, target)]
    assert cosines(run[0].reshape(1, -1), run[1].reshape(1, -1))[0] >= 0.95
