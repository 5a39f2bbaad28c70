"""LinearIntentClassifier alone: create, train, persist, load, process (features given)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_classifier import LinearIntentClassifier, _log_l2, softmax

INTENTS = {"ask_duration": [1.0, 0.0, 0.0], "ask_pain": [0.0, 1.0, 0.0], "greet": [0.0, 0.0, 1.0]}


def _message(text: str, vector: list[float], intent: str | None = None) -> Message:
    message = Message(data={TEXT: text, **({INTENT: intent} if intent else {})})
    noisy = np.asarray(vector) + np.random.default_rng(len(text)).normal(0, 0.05, 3)
    message.add_features(Features(noisy.reshape(1, -1), FEATURE_TYPE_SENTENCE, TEXT, "dense"))
    sparse = sp.coo_matrix(np.asarray(vector).reshape(1, -1) * 2)
    message.add_features(Features(sparse, FEATURE_TYPE_SENTENCE, TEXT, "sparse"))
    return message


@pytest.fixture
def parts(tmp_path):
    storage = LocalModelStorage(tmp_path)
    return storage, Resource("linear"), ExecutionContext(GraphSchema({}), "test")


def _training_data() -> TrainingData:
    return TrainingData(
        [
            _message(f"{intent} {i}", vector, intent)
            for intent, vector in INTENTS.items()
            for i in range(6)
        ]  # fmt: skip
    )


def test_softmax_rows_sum_to_one():
    probabilities = softmax(np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0]]))
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities[1, 0] == pytest.approx(1.0)  # no overflow on large scores


def test_sparse_rows_are_log_scaled_to_unit_length():
    scaled = _log_l2(sp.csr_matrix([[0, 3, 4], [0, 0, 0]]))
    assert np.linalg.norm(scaled.toarray()[0]) == pytest.approx(1.0)
    assert scaled.toarray()[1].tolist() == [0, 0, 0]  # an empty row stays empty



@pytest.mark.parametrize("rows", [1, 3, 7])
def test_log_l2_equals_the_dense_formula_and_leaves_its_input_alone(rows):
    counts = sp.random(rows, 50, density=0.2, format="csr", random_state=rows)
    counts.data = np.round(counts.data * 5) + 1
    before = counts.copy()
    dense = np.log1p(counts.toarray())
    norms = np.linalg.norm(dense, axis=1, keepdims=True)
    expected = dense / np.where(norms == 0, 1.0, norms)
    assert np.allclose(_log_l2(counts).toarray(), expected, atol=1e-12)
    assert (counts != before).nnz == 0

def test_create_train_persist_load_predicts_the_same(parts):
    storage, resource, context = parts
    config = LinearIntentClassifier.get_default_config()
    component = LinearIntentClassifier.create(config, storage, resource, context)
    assert component.coef is None
    component.train(_training_data())
    assert component.labels == sorted(INTENTS)

    loaded = LinearIntentClassifier.load(config, storage, resource, context)
    probe = [_message(f"probe {name}", vector) for name, vector in INTENTS.items()]
    assert np.allclose(loaded.predict_proba(probe), component.predict_proba(probe))
    loaded.process(probe)
    assert [m.get(INTENT)["name"] for m in probe] == list(INTENTS)
    ranking = probe[0].get("intent_ranking")
    assert [r["confidence"] for r in ranking] == sorted(
        (r["confidence"] for r in ranking), reverse=True
    )


def test_two_intents_still_give_one_row_per_label(parts):
    storage, resource, context = parts
    component = LinearIntentClassifier.create({}, storage, resource, context)
    two = {k: INTENTS[k] for k in ("ask_duration", "greet")}
    component.train(
        TrainingData([_message(f"{k} {i}", v, k) for k, v in two.items() for i in range(4)])
    )
    assert component.coef.shape[0] == 2
    probe = _message("probe", INTENTS["greet"])
    component.process([probe])
    assert probe.get(INTENT)["name"] == "greet"


def test_an_empty_message_gets_no_intent_for_the_fallback(parts):
    storage, resource, context = parts
    component = LinearIntentClassifier.create({}, storage, resource, context)
    component.train(_training_data())
    empty = Message(data={TEXT: ""})
    component.process([empty])
    assert empty.get(INTENT)["name"] is None and empty.get("intent_ranking") == []


def test_loading_without_a_trained_model_gives_an_untrained_component(parts):
    storage, resource, context = parts
    loaded = LinearIntentClassifier.load({}, storage, resource, context)
    assert loaded.coef is None
    message = Message(data={TEXT: "hello"})
    loaded.process([message])
    assert message.get(INTENT)["name"] is None


def test_no_features_is_a_clear_error(parts):
    storage, resource, context = parts
    component = LinearIntentClassifier.create({}, storage, resource, context)
    with pytest.raises(ValueError, match="no sentence features"):
        component.train(TrainingData([Message(data={TEXT: "hi", INTENT: "greet"})]))


def test_block_by_block_scores_equal_the_stacked_features_product(parts):
    storage, resource, context = parts
    component = LinearIntentClassifier.create({}, storage, resource, context)
    component.train(_training_data())
    probe = [_message(f"probe {name} again", vector) for name, vector in INTENTS.items()]
    features = component._features(probe)
    stacked = softmax(np.asarray(features @ component.coef.T) + component.intercept)
    assert np.allclose(component.predict_proba(probe), stacked, atol=1e-12)


def test_retraining_replaces_the_cached_sparse_weights(parts):
    storage, resource, context = parts
    component = LinearIntentClassifier.create({}, storage, resource, context)
    component.train(_training_data())
    probe = [_message(f"probe {name} again", vector) for name, vector in INTENTS.items()]
    component.predict_proba(probe)  # fills the cache with the first weights
    component.coef = component.coef * 2.0  # what a new training run puts there
    features = component._features(probe)
    stacked = softmax(np.asarray(features @ component.coef.T) + component.intercept)
    assert np.allclose(component.predict_proba(probe), stacked, atol=1e-12)
