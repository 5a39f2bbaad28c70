"""The maintainer loop end to end on a copy of the project: a question the model misses ->
inbox (redacted) -> annotate -> merge -> train -> evaluate -> promote -> the running server
answers it. Then a deliberately worse candidate is refused by the gate."""

from __future__ import annotations

import shutil
import uuid

import pytest
import yaml

from bot.config import PROJECT_ROOT, Settings
from bot.db.models import InboxItem, ModelVersion
from bot.db.session import session_scope
from bot.maintain import cycle
from bot.maintain.promote import PromotionRefused, gate
from bot.maintain.training import inputs_hash, model_path_for
from bot.ops.bootstrap import prepare_database
from bot.ops.servers import ServerSet, http_json
from tests.helpers import always_open_content, free_port

UNKNOWN = "kindly elucidate the modus operandi of onabotulinumtoxinA"
PERSONAL = "my name is Zara Quinn and my number is 07700 900123, call me"


@pytest.fixture(scope="module")
def project(tmp_path_factory, trained_model):
    root = cycle.copy_training_inputs(tmp_path_factory.mktemp("project"))
    assert inputs_hash(root) == inputs_hash(PROJECT_ROOT)  # same inputs: reuse the trained model
    (root / "models").mkdir()
    shutil.copy2(trained_model, model_path_for(root / "models", inputs_hash(root)))
    var = root / "var"
    settings = Settings(
        var_dir=var,
        database_url=f"sqlite:///{var / 'clinic.db'}",
        content_dir=always_open_content(var / "content"),
    )
    prepare_database(settings)
    servers = ServerSet(
        settings,
        model_path_for(root / "models", inputs_hash(root)),
        uuid.uuid4().hex,
        rasa_port=free_port(),
        action_port=free_port(),
        web_port=None,
        log_dir=var / "logs",
    )
    servers.start()
    settings = Settings(
        var_dir=var,
        database_url=settings.database_url,
        content_dir=settings.content_dir,
        rasa_url=servers.rasa_url,
    )
    yield root, settings, servers
    servers.stop()


def _say(servers, sender, text) -> dict:
    status, replies = http_json(
        "POST", f"{servers.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text}
    )
    assert status == 200
    return replies[-1]


@pytest.mark.slow
def test_missed_question_becomes_training_data_and_a_promoted_model(project, monkeypatch):
    root, settings, servers = project
    monkeypatch.setenv("RASA_AUTH_TOKEN", servers.token)
    before = _say(servers, "p1", UNKNOWN)
    assert before["metadata"]["kind"] == "fallback", "precondition: the model misses it"
    _say(servers, "p2", PERSONAL)

    out = settings.var_dir / "inbox.yml"
    new, waiting = cycle.collect_inbox(settings, out, progress=False)
    assert new >= 1
    annotation = yaml.safe_load(out.read_text())
    messages = [item["message"] for item in annotation["items"]]
    assert UNKNOWN in messages
    written = out.read_text()
    for personal in ("Zara", "Quinn", "07700", "900123"):
        assert personal not in written
    with session_scope(settings.database_url) as session:
        stored = " ".join(i.message for i in session.query(InboxItem))
    assert "Zara" not in stored and "07700" not in stored

    for item in annotation["items"]:
        if item["message"] == UNKNOWN:
            item["intent"] = "ask_how_it_works"
        else:
            item["decision"] = "discard"
    out.write_text(yaml.safe_dump(annotation))
    result = cycle.merge_annotations(settings, root, out, "maintainer")
    assert result.added == [("ask_how_it_works", UNKNOWN)]
    merged = yaml.safe_load((root / "data/nlu/from_patients.yml").read_text())
    assert merged["nlu"][0]["examples"][0]["metadata"]["source"] == "patient inbox"
    assert cycle.merge_annotations(settings, root, None, "maintainer").added == []  # once only

    candidate, seconds = cycle.train_candidate(root)
    assert seconds is not None and candidate.exists()
    outcome = cycle.evaluate_candidate(settings, root, folds=3)
    assert outcome.objections == [], outcome.objections
    assert outcome.report.exists() and outcome.report.with_suffix(".png").exists()
    assert "## Per intent" in outcome.report.read_text()

    path, overridden = cycle.promote_candidate(settings, root, "maintainer")
    assert path == candidate and overridden == []
    after = _say(servers, "p3", UNKNOWN)
    assert after["metadata"]["kind"] == "answer"
    assert after["metadata"]["answer_id"] == "how-it-works"
    # a conversation that began before the swap goes on
    assert _say(servers, "p1", "does it hurt")["metadata"]["answer_id"] == "injection-pain"
    with session_scope(settings.database_url) as session:
        active = session.query(ModelVersion).filter_by(status="active").one()
        assert (active.file, active.promoted_by) == (str(candidate), "maintainer")
        assert active.metrics["heldout"]["safety_to_faq"] == 0


@pytest.mark.slow
def test_a_less_safe_candidate_is_refused(project, monkeypatch):
    root, settings, servers = project
    monkeypatch.setenv("RASA_AUTH_TOKEN", servers.token)
    safety = root / "data/nlu/safety.yml"
    doc = yaml.safe_load(safety.read_text())
    doc["nlu"] = [b for b in doc["nlu"] if b["intent"] != "clinical_question"]
    safety.write_text(yaml.safe_dump(doc, sort_keys=False))

    cycle.train_candidate(root)
    outcome = cycle.evaluate_candidate(settings, root, folds=0)
    assert any("clinical_recall" in o for o in outcome.objections)
    with pytest.raises(PromotionRefused, match="clinical_recall"):
        cycle.promote_candidate(settings, root, "maintainer")
    with session_scope(settings.database_url) as session:
        assert session.query(ModelVersion).filter_by(status="refused").count() == 1
        assert session.query(ModelVersion).filter_by(status="active").count() == 1

    path, overridden = cycle.promote_candidate(
        settings, root, "maintainer", force_reason="test: recorded override", swap=False
    )
    assert overridden and "clinical_recall" in overridden[0]
    with session_scope(settings.database_url) as session:
        assert session.query(ModelVersion).filter_by(file=str(path)).one().forced_reason
    restored = cycle.rollback_model(settings, "maintainer", swap=False)
    assert restored != path


FIGURES = {"faq_accuracy": 0.94, "urgent_recall": 1.0, "clinical_recall": 0.95, "safety_to_faq": 0}


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({}, False),
        ({"faq_accuracy": 0.935}, False),  # within one point
        ({"faq_accuracy": 0.925}, True),
        ({"urgent_recall": 0.99}, True),
        ({"clinical_recall": 0.949}, True),
        ({"safety_to_faq": 1}, True),
        ({"faq_accuracy": 0.99, "clinical_recall": 1.0}, False),
    ],
)
def test_gate(change, refused):
    assert bool(gate({**FIGURES, **change}, FIGURES)) is refused
    assert gate({**FIGURES, **change}, None) == []  # nothing to compare with: first model
