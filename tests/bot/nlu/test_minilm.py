"""MiniLMFeaturizer alone: create, featurize training data and messages (real MiniLM weights)."""

from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.minilm import UNIT_VECTORS, MiniLMFeaturizer, shared_encoder


@pytest.fixture(scope="module")
def featurizer(tmp_path_factory) -> MiniLMFeaturizer:
    context = ExecutionContext(GraphSchema({}), "minilm")
    storage = LocalModelStorage(tmp_path_factory.mktemp("minilm"))
    return MiniLMFeaturizer.create({}, storage, Resource("minilm"), context)


def _sentence_vector(message: Message) -> np.ndarray:
    _, sentence = message.get_dense_features(TEXT)
    return sentence.features.reshape(-1)


def test_training_examples_get_one_unit_length_384_vector_each(featurizer):
    data = TrainingData([Message(data={TEXT: t}) for t in ("does it hurt", "how long is it")])
    featurizer.process_training_data(data)
    vectors = [_sentence_vector(m) for m in data.training_examples]
    assert [v.shape for v in vectors] == [(384,), (384,)]
    assert np.linalg.norm(vectors[0]) == pytest.approx(1.0, abs=1e-3)


def test_similar_questions_are_closer_than_unrelated_ones(featurizer):
    texts = ["does the injection hurt", "is the needle painful", "where do i park"]
    messages = [Message(data={TEXT: t}) for t in texts]
    featurizer.process(messages)
    a, b, c = (_sentence_vector(m) for m in messages)
    assert float(a @ b) > float(a @ c)


def test_a_message_of_several_sentences_gets_each_sentence_from_one_batch(featurizer):
    message = Message(data={TEXT: "Where do I park? Since yesterday I cannot swallow."})
    featurizer.process([message])
    units = message.get(UNIT_VECTORS)
    assert units.shape == (3, 384)  # the message, then each sentence
    assert np.allclose(units[0], _sentence_vector(message), atol=1e-5)
    alone = shared_encoder().encode(["Since yesterday I cannot swallow."])[0]
    assert np.allclose(units[2], alone, atol=1e-4)


def test_an_empty_message_is_left_alone(featurizer):
    message = Message(data={TEXT: ""})
    featurizer.process([message])
    assert message.get(UNIT_VECTORS) is None
    assert message.get_dense_features(TEXT) == (None, None)
