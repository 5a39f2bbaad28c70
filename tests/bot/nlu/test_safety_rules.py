"""SafetyRules: alone (create/train/persist/load, failure, language) and inside a trained model."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from bot.safety.classifier import REPLIES


@pytest.fixture(scope="module")
def agent(trained_model):
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model))


def _parse(agent, text: str) -> dict:
    return asyncio.run(agent.parse_message(text))


@pytest.mark.slow
def test_parse_output_shows_the_safety_rule_that_fired(agent):
    result = _parse(agent, "since my shots yesterday i can't swallow properly")
    assert result["intent"] == {"name": "report_urgent_symptoms", "confidence": 1.0}
    safety = result["safety"]
    assert (safety["fired"], safety["source"], safety["rule"]) == (True, "rules", "distant_spread")
    assert safety["matched"] == "swallow"
    assert safety["reply"] == "urgent" and safety["language"] == "en"
    assert "swallow" in safety["clause"]


@pytest.mark.slow
def test_an_emergency_after_a_practical_question_is_urgent(agent):
    result = _parse(agent, "where do i park for my appointment? my wife's lips are swelling up now")
    assert result["intent"]["name"] == "report_urgent_symptoms"
    assert result["safety"]["category"] == "allergic_reaction"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "intent", "safety"),
    [
        ("i keep thinking everyone would be better off without me",
         "report_urgent_symptoms", {"reply": "crisis"}),
        ("my toddler swallowed some of my migraine tablets",
         "report_urgent_symptoms", {"reply": "poison"}),
        ("desde ayer se me cae el párpado y no puedo tragar bien",
         "report_urgent_symptoms", {"reply": "urgent", "language": "es"}),
        ("¿Cuánto dura la sesión?", "other_language", {"language": "es"}),
        ("Wie lange dauert die Sitzung?", "other_language", {"language": "de"}),
    ],
)  # fmt: skip
def test_the_reply_fits_the_crisis_and_the_language(agent, text, intent, safety):
    result = _parse(agent, text)
    assert result["intent"]["name"] == intent
    assert {key: result["safety"].get(key) for key in safety} == safety


@pytest.mark.slow
def test_personal_clinical_context_overrides_an_faq_prediction(agent):
    result = _parse(agent, "how long does the session take, i'm on warfarin")
    assert result["intent"]["name"] == "clinical_question"
    assert result["safety"]["rule"] == "own medicines"
    assert result["safety"]["original_intent"] == "ask_session_length"
    assert result["safety"]["answer_first"] is True


@pytest.mark.slow
def test_general_risk_question_stays_an_faq(agent):
    result = _parse(agent, "can botox cause trouble swallowing?")
    assert result["intent"]["name"] == "ask_serious_risks"
    assert result["safety"]["fired"] is False


@pytest.mark.slow
def test_a_failing_safety_check_makes_the_message_urgent(trained_model):
    """If the checks raise, nobody knows what the message says: urgent, source "error"."""
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.safety_rules import SafetyRules

    class Broken:
        def parse(self, text):
            raise RuntimeError("spaCy broke")

    component = SafetyRules({}, detector=Broken())
    message = Message(data={"text": "i can't breathe since my botox \ud83d"})
    component.process([message])
    assert message.get("intent")["name"] == "report_urgent_symptoms"
    assert message.get("safety")["source"] == "error"


def test_lone_surrogates_never_reach_spacy():
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.safety_rules import SafetyRules

    class NoLanguages:
        def guess(self, text):
            from bot.safety.language import LanguageGuess

            text.encode("utf-8")  # raises if a surrogate got through
            return LanguageGuess("en", None)

    component = SafetyRules({}, languages=NoLanguages())
    message = Message(data={"text": "I can't breathe \ud83d since my botox"})
    component.process([message])
    assert message.get("safety")["source"] == "rules"
    assert message.get("safety")["category"] == "distant_spread"


@pytest.mark.slow
def test_ranking_is_sorted_and_normalised(agent):
    ranking = _parse(agent, "when will i notice a difference")["intent_ranking"]
    confidences = [r["confidence"] for r in ranking]
    assert confidences == sorted(confidences, reverse=True)
    assert min(confidences) >= 0.0 and max(confidences) <= 1.0


@pytest.mark.slow
@pytest.mark.parametrize("text", ["", " ", "?!?!", "a" * 5000, "é" * 50, "<script>x</script>"])
def test_odd_input_parses_without_error(agent, text):
    result = _parse(agent, text)
    assert "intent" in result


def test_safety_classifier_round_trips_through_plain_arrays(tmp_path):
    from bot.safety.classifier import SafetyClassifier

    texts = ["i cant breathe", "my face is swelling", "i take warfarin", "i am pregnant",
             "how long does it take", "does it hurt"] * 3  # fmt: skip
    labels = ["urgent", "urgent", "clinical", "clinical", "general", "general"] * 3
    embeddings = np.random.default_rng(0).normal(size=(len(texts), 8))
    model = SafetyClassifier.fit(texts, labels, embeddings)
    model.save(tmp_path)
    loaded = SafetyClassifier.load(tmp_path)
    assert np.allclose(loaded.proba(texts, embeddings), model.proba(texts, embeddings))
    assert loaded.proba(texts, embeddings).sum(axis=1) == pytest.approx(np.ones(len(texts)))



def test_the_reply_regression_round_trips_and_old_models_load_without_it(tmp_path):
    from bot.safety.classifier import SafetyClassifier

    texts = ["i want to die", "i took 40 pills", "my face is drooping", "i cant breathe",
             "how long does it take", "i take warfarin"] * 3  # fmt: skip
    labels = ["urgent", "urgent", "urgent", "urgent", "general", "clinical"] * 3
    replies = ["crisis", "poison", "urgent", "urgent"] * 3
    embeddings = np.random.default_rng(1).normal(size=(len(texts), 8))
    model = SafetyClassifier.fit(texts, labels, embeddings)
    assert model.reply_proba(texts, embeddings) is None  # not fitted yet
    urgent_rows = [i for i, label in enumerate(labels) if label == "urgent"]
    model.fit_replies([texts[i] for i in urgent_rows], replies, embeddings[urgent_rows])
    (tmp_path / "with").mkdir()
    model.save(tmp_path / "with")
    loaded = SafetyClassifier.load(tmp_path / "with")
    chosen = loaded.reply_proba(texts[:4], embeddings[:4])
    assert np.allclose(chosen, model.reply_proba(texts[:4], embeddings[:4]))
    assert [REPLIES[i] for i in chosen.argmax(axis=1)] == ["crisis", "poison", "urgent", "urgent"]
    # The three-class check is untouched by the reply regression beside it.
    assert np.allclose(loaded.proba(texts, embeddings), model.proba(texts, embeddings))
    old = SafetyClassifier(model.vocabulary, model.idf, model.coef, model.intercept)
    (tmp_path / "old").mkdir()
    old.save(tmp_path / "old")
    assert SafetyClassifier.load(tmp_path / "old").reply_proba(texts, embeddings) is None


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        ([0.10, 0.85, 0.05], "crisis"),
        ([0.05, 0.15, 0.80], "poison"),
        ([0.80, 0.15, 0.05], "urgent"),
        ([0.30, 0.45, 0.25], "urgent"),  # not sure it is suicidal: the emergency reply
        ([0.30, 0.20, 0.49], "urgent"),  # not sure it is an overdose
        (None, "urgent"),  # a model trained before the reply regression
    ],
)
def test_a_message_only_the_learned_check_finds_gets_the_reply_it_is_sure_of(
    tmp_path, replies, expected
):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.minilm import UNIT_VECTORS
    from bot.nlu.safety_rules import SafetyRules

    judged: list[list[str]] = []

    class Classifier:  # urgent in its second sentence only
        def proba(self, texts, embeddings):
            return np.array([[0.3, 0.1, 0.6], [0.1, 0.1, 0.8], [0.9, 0.05, 0.05], [0.1, 0.1, 0.8]])

        def reply_proba(self, texts, embeddings):
            judged.append(texts)
            return None if replies is None else np.array([replies])

    context = ExecutionContext(GraphSchema({}), "test")
    component = SafetyRules.create({}, LocalModelStorage(tmp_path), Resource("s"), context)
    component.classifier = Classifier()
    text = "can i book for monday? everything feels pointless lately. thanks"
    assert component.detector.urgent(text) is None  # the learned check alone decides
    message = Message(data={TEXT: text, UNIT_VECTORS: np.zeros((4, 384)),
                            "intent": {"name": "book_appointment", "confidence": 0.9}})  # fmt: skip
    component.process([message])
    safety = message.get("safety")
    assert message.get("intent")["name"] == "report_urgent_symptoms"
    assert (safety["source"], safety["reply"]) == ("classifier", expected)
    assert judged == [["everything feels pointless lately."]]  # the most urgent unit's words


def test_safety_classifier_scores_equal_the_stacked_features_product():
    import scipy.sparse as sp

    from bot.safety.classifier import SafetyClassifier

    texts = ["i cant breathe", "my face is swelling", "i take warfarin", "i am pregnant",
             "how long does it take", "does it hurt"] * 3  # fmt: skip
    labels = ["urgent", "urgent", "clinical", "clinical", "general", "general"] * 3
    embeddings = np.random.default_rng(0).normal(size=(len(texts), 8))
    model = SafetyClassifier.fit(texts, labels, embeddings)
    model.proba(texts, embeddings)  # the cached weight block must not go stale or differ
    features = sp.hstack([sp.csr_matrix(embeddings), model._fitted_vectorizer().transform(texts)])
    scores = np.asarray(features @ model.coef.T) + model.intercept
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    assert np.allclose(model.proba(texts, embeddings), expected, atol=1e-12)


@pytest.mark.parametrize(
    "texts",
    [["i cant breathe since my botox", "how long does it take?"], ["", " ", "?!"],
     ["¿Me duele la cabeza?", "我的脸肿了", "a" * 400], []],
)  # fmt: skip
def test_safety_classifier_char_grams_equal_sklearns_transform(texts):
    from bot.safety.classifier import SafetyClassifier

    train = ["i cant breathe", "my face is swelling", "i take warfarin", "i am pregnant",
             "how long does it take", "does it hurt", "me duele", "脸肿了"] * 2  # fmt: skip
    labels = ["urgent", "urgent", "clinical", "clinical", "general", "general"] * 2 + ["urgent"] * 4
    model = SafetyClassifier.fit(train, labels, np.zeros((len(train), 4)))
    vectorizer = model._fitted_vectorizer()
    ours = model._tfidf(texts, vectorizer)
    assert ours.shape == (len(texts), len(model.vocabulary))
    if texts:
        assert abs(ours - vectorizer.transform(texts)).max() < 1e-12

@pytest.mark.slow
def test_safety_rules_create_train_persist_load(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.nlu.safety_rules import SafetyRules

    storage = LocalModelStorage(tmp_path)
    resource = Resource("safety_rules")
    context = ExecutionContext(GraphSchema({}), "test")
    config = SafetyRules.get_default_config()
    component = SafetyRules.create(config, storage, resource, context)
    assert component.classifier is None
    component.train(TrainingData([]))  # the examples of data/safety/examples alone
    loaded = SafetyRules.load(config, storage, resource, context)
    assert loaded.classifier is not None
    assert np.allclose(loaded.classifier.coef, component.classifier.coef)
    from bot.nlu.minilm import shared_encoder

    texts = ["my throat is closing up and i can hardly breathe", "how long does it take?"]
    rows = loaded.classifier.proba(texts, shared_encoder().encode(texts))
    assert rows[0, 0] > 0.5 > rows[1, 0]
    # The reply regression, stored beside it: which urgent reply each emergency needs.
    emergencies = ["i have saved up my tablets and tonight i am going to end it",
                   "i swallowed the whole box of my sumatriptan an hour ago",
                   "half of my face has dropped and i cant lift my arm"]  # fmt: skip
    replies = loaded.classifier.reply_proba(emergencies, shared_encoder().encode(emergencies))
    assert [REPLIES[i] for i in replies.argmax(axis=1)] == ["crisis", "poison", "urgent"]


def test_safety_rules_without_a_learned_check_load_and_use_the_rules(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from bot.nlu.safety_rules import SafetyRules

    context = ExecutionContext(GraphSchema({}), "test")
    loaded = SafetyRules.load({}, LocalModelStorage(tmp_path), Resource("none"), context)
    assert loaded.classifier is None


def test_the_language_check_never_moves_an_urgent_prediction_to_a_notice():
    """A message the intent classifier already called urgent stays urgent in any language."""
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.safety_rules import SafetyRules
    from bot.safety.language import LanguageGuess

    class Portuguese:
        def guess(self, text):
            return LanguageGuess("pt", "pt")

    component = SafetyRules({}, languages=Portuguese())
    urgent = {"name": "report_urgent_symptoms", "confidence": 0.25}  # below the fallback's 0.3
    message = Message(data={"text": "tenho uma pergunta sobre isso", "intent": urgent})
    component.process([message])
    assert message.get("intent") == {"name": "report_urgent_symptoms", "confidence": 1.0}
    assert message.get("safety")["language"] == "pt"
    assert message.get("safety")["source"] == "intent"

    faq = {"name": "faq_duration", "confidence": 0.4}
    other = Message(data={"text": "quanto tempo demora", "intent": faq})
    component.process([other])
    assert other.get("intent")["name"] == "other_language"  # the check itself still works


class _Probabilities:
    """A learned check that answers a fixed [urgent, clinical, general]."""

    def __init__(self, urgent: float) -> None:
        self.urgent = urgent

    def proba(self, texts, embeddings):
        import numpy as np

        rest = (1.0 - self.urgent) / 2
        return np.array([[self.urgent, rest, rest] for _ in texts])


class _English:
    def guess(self, text):
        from bot.safety.language import LanguageGuess

        return LanguageGuess("en", None)


def _urgent_by_intent(text: str, p_urgent: float, ranking: list[tuple[str, float]]):
    import numpy as np
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.minilm import UNIT_VECTORS
    from bot.nlu.safety_rules import SafetyRules
    from bot.safety.classifier import units

    component = SafetyRules(
        {}, classifier=_Probabilities(p_urgent), languages=_English()
    )
    message = Message(
        data={
            "text": text,
            "intent": {"name": "report_urgent_symptoms", "confidence": 0.6},
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
            UNIT_VECTORS: np.zeros((len(units(text)), 384)),
        }
    )
    component.process([message])
    return message


RANKING = [("report_urgent_symptoms", 0.6), ("ask_serious_risks", 0.3), ("ask_procedure", 0.1)]


@pytest.mark.parametrize(
    ("text", "p_urgent", "ranking", "intent", "source"),
    [
        # Asked about, not reported; the learned check agrees: the general topic.
        ("what should I do if I ever got double vision after the injections?", 0.05, RANKING,
         "ask_serious_risks", "judged"),
        # ... and without a clear general topic: a person, never an answer picked at random.
        ("what should I do if I ever got double vision after the injections?", 0.05,
         [("report_urgent_symptoms", 0.9), ("ask_serious_risks", 0.05)],
         "clinical_question", "judged"),
        # The learned check is not sure enough that it is general: urgent stays.
        ("what should I do if I ever got double vision after the injections?", 0.3, RANKING,
         "report_urgent_symptoms", None),
        # No red-flag words for the rules to have judged: the intent classifier is not overruled.
        ("something feels really wrong and I am scared", 0.05, RANKING,
         "report_urgent_symptoms", None),
    ],
)  # fmt: skip
def test_an_urgent_intent_is_overruled_only_when_rules_and_learned_check_agree(
    text, p_urgent, ranking, intent, source
):
    message = _urgent_by_intent(text, p_urgent, ranking)
    assert message.get("intent")["name"] == intent
    assert (message.get("safety") or {}).get("source") == source or (
        source is None and not message.get("safety")["fired"]
    )


@pytest.mark.parametrize(
    ("examples", "not_general", "expected"),
    [
        ([], set(), []),
        ([("ask_session_length", "how long does it take?")], set(), []),  # one sentence
        ([("ask_session_length", "I have to pick the kids up at 3. Will I be done by then?")],
         set(), ["I have to pick the kids up at 3.", "Will I be done by then?"]),
        # Sentences of urgent, personal, small-talk or person-please messages are left out.
        ([("report_urgent_symptoms", "Had my shots on Monday. Now I can't swallow.")], set(), []),
        ([("clinical_question", "I take propranolol. Can I still have it?")], set(), []),
        ([("request_human", "I need a person. I can't see properly.")], set(), []),
        ([("book_appointment", "Hi. Where do I park?"), ("ask_cost_insurance", "Hi. How much?")],
         set(), ["Hi.", "Where do I park?", "How much?"]),  # each sentence once
        ([("book_appointment", "Please cancel. I can't see properly.")],
         {"I can't see properly."}, ["Please cancel."]),  # itself an urgent or clinical example
    ],
)  # fmt: skip
def test_the_learned_check_also_learns_the_sentences_of_general_messages(
    examples, not_general, expected
):
    from bot.safety.classifier import general_sentences

    assert general_sentences(examples, not_general) == expected


def test_the_urgent_and_the_personal_judgement_each_take_their_own_sentence(tmp_path):
    """The most urgent unit decides urgency; the most personal one (urgent + clinical) decides
    the handoff, so a personal second sentence is not hidden by a general first one."""
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.minilm import UNIT_VECTORS
    from bot.nlu.safety_rules import SafetyRules

    rows = np.array([[0.30, 0.10, 0.60],   # the whole message
                     [0.40, 0.05, 0.55],   # the first sentence: the most urgent
                     [0.05, 0.80, 0.15]])  # the second: the most personal
    seen: list[list[str]] = []

    class Classifier:  # the learned check's interface, with fixed answers
        def proba(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
            seen.append(texts)
            return rows

        def reply_proba(self, texts: list[str], embeddings: np.ndarray) -> None:
            return None

    context = ExecutionContext(GraphSchema({}), "test")
    component = SafetyRules.create({}, LocalModelStorage(tmp_path), Resource("s"), context)
    component.classifier = Classifier()
    text = "are people on immunosuppressants allowed? I'm on methotrexate"
    message = Message(data={TEXT: text, UNIT_VECTORS: np.zeros((3, 384))})
    chosen = component._probabilities(message, text)
    assert seen == [[text, "are people on immunosuppressants allowed?", "I'm on methotrexate"]]
    assert np.array_equal(chosen, rows[[1, 2]])


@pytest.mark.parametrize(
    ("urgent", "personal", "intent"),
    [
        ([0.30, 0.10, 0.60], [0.05, 0.80, 0.15], "clinical_question"),  # personal 2nd sentence
        ([0.30, 0.10, 0.60], [0.05, 0.20, 0.75], "ask_eligibility"),  # nothing personal
        ([0.90, 0.05, 0.05], [0.05, 0.80, 0.15], "report_urgent_symptoms"),
    ],
)
def test_each_sentence_can_make_the_message_personal_or_urgent(tmp_path, urgent, personal, intent):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.minilm import UNIT_VECTORS
    from bot.nlu.safety_rules import SafetyRules

    class Classifier:  # the learned check's interface, with fixed answers per sentence
        def proba(self, texts: list[str], embeddings: np.ndarray) -> np.ndarray:
            return np.array([[0.02, 0.03, 0.95], urgent, personal])

        def reply_proba(self, texts: list[str], embeddings: np.ndarray) -> None:
            return None

    context = ExecutionContext(GraphSchema({}), "test")
    component = SafetyRules.create({}, LocalModelStorage(tmp_path), Resource("s"), context)
    component.classifier = Classifier()
    text = "who can have botox? my sister has it"  # no red-flag or clinical rule fires
    assert component.detector.urgent(text) is None and component.detector.clinical(text) is None
    message = Message(data={TEXT: text, UNIT_VECTORS: np.zeros((3, 384)),
                            "intent": {"name": "ask_eligibility", "confidence": 0.9}})  # fmt: skip
    component.process([message])
    assert message.get("intent")["name"] == intent


class _Personal:
    """A learned check that answers a fixed [urgent, clinical, general] for every unit."""

    def __init__(self, clinical: float) -> None:
        self.clinical = clinical

    def proba(self, texts, embeddings):
        return np.array([[0.01, self.clinical, 0.99 - self.clinical] for _ in texts])


@pytest.mark.parametrize(
    ("confidence", "p_clinical", "intent", "confirmed"),
    [
        (0.25, 0.94, "clinical_question", 1.0),  # unsure, the check agrees: sure, to a person
        (0.25, 0.10, "clinical_question", 0.25),  # the check disagrees: left for the fallback
        (0.80, 0.94, "clinical_question", 0.80),  # sure already: nothing to confirm
    ],
)
def test_an_unsure_personal_question_the_learned_check_confirms_is_made_sure(
    confidence, p_clinical, intent, confirmed
):
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.minilm import UNIT_VECTORS
    from bot.nlu.safety_rules import SafetyRules
    from bot.safety.classifier import units

    text = "does working nights make it work less well for someone like that?"
    component = SafetyRules({}, classifier=_Personal(p_clinical), languages=_English())
    assert component.detector.clinical(text) is None  # only the learned check can confirm it
    vectors = np.zeros((len(units(text)), 384))
    predicted = {"name": "clinical_question", "confidence": confidence}
    message = Message(data={"text": text, UNIT_VECTORS: vectors, "intent": predicted})
    component.process([message])
    assert message.get("intent") == {"name": intent, "confidence": confirmed}
