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


def test_button_payloads_and_repeated_texts_come_from_the_cache():
    encoder = shared_encoder()
    first = encoder.encode(["/ask_side_effects", "does it hurt"])
    assert "/ask_side_effects" in encoder._cache
    again = encoder.encode(["does it hurt", "/ask_side_effects"])
    assert np.array_equal(first[::-1], again)


def test_cache_is_bounded(tmp_path):
    from bot.nlu.minilm import MiniLMEncoder

    small = MiniLMEncoder(shared_encoder_file(), cache_size=2)
    small.encode(["one", "two", "three"])
    assert list(small._cache) == ["two", "three"]


@pytest.mark.parametrize(
    ("lengths", "batch_size", "expected"),
    [
        ([], 32, []),
        ([7], 32, [(0, 1)]),
        ([6, 6, 7, 7], 32, [(0, 4)]),  # about one length: one call
        # A whole message beside its short sentences: padding them to it costs more than a call.
        ([8, 9, 10, 60], 32, [(0, 3), (3, 4)]),
        ([5, 5, 5, 5, 5], 2, [(0, 1), (1, 3), (3, 5)]),  # never more than batch_size
        ([10, 10, 40, 41, 120], 32, [(0, 2), (2, 4), (4, 5)]),
    ],
)
def test_length_batches_cut_where_padding_would_cost_more_than_a_call(
    lengths, batch_size, expected
):
    from bot.nlu.minilm import length_batches

    cuts = length_batches(lengths, batch_size)
    assert [(c.start, c.stop) for c in cuts] == expected


def test_each_distinct_text_is_embedded_once_and_like_on_its_own(monkeypatch):
    from bot.nlu.minilm import MiniLMEncoder

    encoder = MiniLMEncoder(shared_encoder_file(), cache_size=0)
    rows: list[int] = []
    real = encoder._session_run
    monkeypatch.setattr(encoder, "_session_run", lambda i, m: rows.append(len(i)) or real(i, m))
    long = "so i had my third round on thursday and everything went fine, " * 4
    texts = ["does it hurt", long, "does it hurt", "can i drive after", long]
    vectors = encoder.encode(texts)
    if encoder.per_text:  # int8: every distinct text in a call of its own
        assert rows == [1, 1, 1]
    else:  # float32: two distinct short texts together, the long alone
        assert sum(rows) == 3 and len(rows) == 2
    assert np.array_equal(vectors[0], vectors[2]) and np.array_equal(vectors[1], vectors[4])
    alone = np.vstack([encoder._run([t]) for t in texts])
    assert np.abs(vectors - alone).max() < 1e-5


def test_an_int8_embedding_does_not_depend_on_the_texts_beside_it():
    """Dynamic quantisation scales activations per call: with other texts (and their padding)
    in the same call, a text would come out different, and the cache would keep whichever
    version came first. Each text is embedded alone, so its embedding is the same anywhere."""
    from bot.nlu.minilm import MiniLMEncoder

    encoder = MiniLMEncoder(shared_encoder_file(), cache_size=0, threads=2)
    if not encoder.per_text:
        pytest.skip("float32 encoder on this CPU: batches are exact")
    text = "does it hurt"
    others = ["so i had my third round on thursday and everything went fine " * 3, "ok", "hi"]
    alone = encoder.encode([text])[0]
    for batch in ([text, *others], [*others, text], [text] * 2 + others * 10):
        together = encoder.encode(batch)
        assert np.array_equal(together[batch.index(text)], alone)


@pytest.mark.parametrize("threads", ["1", "3"])
def test_the_shared_encoder_uses_the_threads_of_the_settings(monkeypatch, threads):
    from bot.nlu import minilm

    monkeypatch.setenv("CLINIC_ENCODER_THREADS", threads)
    monkeypatch.setattr(minilm, "_SHARED", {})  # a fresh encoder, the cached one left alone
    encoder = minilm.shared_encoder()
    options = encoder.session.get_session_options()
    # int8 embeds texts one per call, so the threads go to texts at once, one core each.
    inside = 1 if encoder.per_text else int(threads)
    assert (options.intra_op_num_threads, options.inter_op_num_threads) == (inside, 1)
    assert encoder.workers == (int(threads) if encoder.per_text else 1)


def shared_encoder_file():
    from bot.config import load_settings
    from bot.nlu.minilm_export import ensure_onnx

    return ensure_onnx(load_settings().encoder_dir)


@pytest.mark.slow
def test_onnx_embeddings_match_tensorflow_on_the_heldout_messages():
    """The exported encoder gives TensorFlow's embeddings: cosine >= 0.99 on average, and no
    message below 0.95 (int8 weights; float32 gives >= 0.99 each)."""
    from bot.config import HELDOUT_PATH, PROJECT_ROOT
    from bot.maintain.training import load_nlu_examples
    from bot.nlu.minilm_export import MIN_INT8_COSINE, TensorFlowMiniLM, cosines

    texts = [text for _, text in load_nlu_examples(PROJECT_ROOT / HELDOUT_PATH)]
    assert len(texts) > 100
    onnx = shared_encoder().encode(texts)  # in length-sorted, padded batches
    reference = TensorFlowMiniLM().encode(texts)  # one at a time
    similarity = cosines(onnx, reference)
    print(f"\nONNX vs TensorFlow on {len(texts)} held-out messages: "
          f"cosine min {similarity.min():.6f}, mean {similarity.mean():.6f}")
    assert similarity.mean() >= 0.99
    assert similarity.min() >= MIN_INT8_COSINE


def test_repeated_texts_with_the_cache_on_are_embedded_once_and_then_remembered(monkeypatch):
    from bot.nlu.minilm import MiniLMEncoder

    encoder = MiniLMEncoder(shared_encoder_file(), cache_size=10)
    rows: list[int] = []
    real = encoder._session_run
    monkeypatch.setattr(encoder, "_session_run", lambda i, m: rows.append(len(i)) or real(i, m))
    first = encoder.encode(["does it hurt", "where do i park", "does it hurt"])
    assert sum(rows) == 2 and list(encoder._cache) == ["does it hurt", "where do i park"]
    again = encoder.encode(["where do i park", "does it hurt"])
    assert sum(rows) == 2  # both from the cache
    assert np.array_equal(again, first[[1, 0]])
