"""promote.py on ModelVersion rows in a real SQLite database: the "not less safe" gate, the
promotion and rollback bookkeeping, and the hot swap request to a stand-in Rasa server."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import ModelVersion
from bot.db.session import session_scope
from bot.maintain.promote import (
    MAX_FAQ_DROP,
    PromotionRefused,
    active_version,
    gate,
    heldout_figures,
    load_into_server,
    promote,
    record_candidate,
    rollback,
)

GOOD = {
    "faq_accuracy": 0.94,
    "accuracy": 0.9,
    "urgent_recall": 1.0,
    "clinical_recall": 0.95,
    "safety_to_faq": 0,
}

# --- gate ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "objections"),
    [
        ({}, []),
        ({"faq_accuracy": 0.99, "accuracy": 0.5}, []),  # plain accuracy is not gated
        ({"faq_accuracy": 0.93}, []),  # exactly one point lower: allowed
        ({"faq_accuracy": 0.9299}, ["FAQ accuracy drops from 0.940 to 0.930"]),
        ({"urgent_recall": 0.999}, ["urgent_recall drops from 1.000 to 0.999"]),
        ({"clinical_recall": 0.9499}, ["clinical_recall drops from 0.950 to 0.950"]),
        ({"clinical_recall": 1.0}, []),
        (
            {"safety_to_faq": 2},
            ["2 clinical/urgent messages would get an FAQ answer (current: 0)"],
        ),
        (
            {"faq_accuracy": 0.5, "urgent_recall": 0.5, "clinical_recall": 0.5, "safety_to_faq": 1},
            [
                "FAQ accuracy drops from 0.940 to 0.500",
                "urgent_recall drops from 1.000 to 0.500",
                "clinical_recall drops from 0.950 to 0.500",
                "1 clinical/urgent messages would get an FAQ answer (current: 0)",
            ],
        ),
    ],
)
def test_gate_table(change, objections):
    assert gate({**GOOD, **change}, GOOD) == objections


@pytest.mark.parametrize("current", [None, {}])
def test_the_first_model_has_nothing_to_be_compared_with(current):
    assert gate({**GOOD, "urgent_recall": 0.0, "safety_to_faq": 9}, current) == []


def test_safety_is_not_traded_for_faq_accuracy():
    better_faq_less_safe = {**GOOD, "faq_accuracy": 1.0, "urgent_recall": 0.98}
    assert gate(better_faq_less_safe, GOOD)
    assert MAX_FAQ_DROP == 0.01


# --- bookkeeping on ModelVersion rows ---------------------------------------------------------


def add_version(session, name: str, heldout: dict | None = GOOD, status: str = "candidate"):
    metrics = {"heldout": heldout, "cv": None} if heldout is not None else None
    version = record_candidate(session, Path(f"/models/{name}.tar.gz"), name, metrics)
    version.status = status
    session.flush()
    return version


def statuses(database_url: str) -> dict[str, str]:
    with session_scope(database_url) as session:
        return {Path(v.file).name: v.status for v in session.scalars(select(ModelVersion))}


def test_record_candidate_once_per_file(database_url):
    with session_scope(database_url) as session:
        first = record_candidate(session, Path("/models/a.tar.gz"), "a", {"heldout": GOOD})
        again = record_candidate(session, Path("/models/a.tar.gz"), "a", {"heldout": {"x": 1}})
        assert first.id == again.id
        assert (again.status, again.data_hash) == ("candidate", "a")
    with session_scope(database_url) as session:
        (version,) = session.scalars(select(ModelVersion)).all()
        assert version.metrics == {"heldout": {"x": 1}}


@pytest.mark.parametrize(
    ("metrics", "figures"),
    [(None, None), ({}, None), ({"cv": {"accuracy": 1}}, None), ({"heldout": GOOD}, GOOD)],
)
def test_heldout_figures(metrics, figures):
    assert heldout_figures(ModelVersion(metrics=metrics)) == figures


def test_heldout_figures_of_no_version():
    assert heldout_figures(None) is None


def test_the_first_promotion(database_url):
    swapped = []
    with session_scope(database_url) as session:
        assert active_version(session) is None
        first = add_version(session, "first")
        assert promote(session, first, "maintainer", swap=swapped.append) == []
    assert swapped == [Path("/models/first.tar.gz")]
    with session_scope(database_url) as session:
        active = active_version(session)
        assert (active.data_hash, active.promoted_by, active.forced_reason) == (
            "first",
            "maintainer",
            None,
        )
        assert active.promoted_at is not None


def test_a_better_candidate_retires_the_active_model(database_url):
    with session_scope(database_url) as session:
        promote(session, add_version(session, "first"), "m")
        promote(session, add_version(session, "second", {**GOOD, "faq_accuracy": 0.96}), "m")
    assert statuses(database_url) == {"first.tar.gz": "retired", "second.tar.gz": "active"}


def test_a_less_safe_candidate_is_refused_and_recorded(database_url):
    swapped = []
    with session_scope(database_url) as session:
        promote(session, add_version(session, "first"), "m")
        worse = add_version(session, "worse", {**GOOD, "clinical_recall": 0.9})
        with pytest.raises(PromotionRefused, match="clinical_recall drops from 0.950 to 0.900"):
            promote(session, worse, "m", swap=swapped.append)
    assert swapped == []  # never loaded into the server
    assert statuses(database_url) == {"first.tar.gz": "active", "worse.tar.gz": "refused"}


def test_a_forced_promotion_records_the_reason_and_the_objections(database_url):
    with session_scope(database_url) as session:
        promote(session, add_version(session, "first"), "m")
        worse = add_version(session, "worse", {**GOOD, "urgent_recall": 0.9})
        objections = promote(session, worse, "lead", force_reason="rules fix ships next week")
    assert objections == ["urgent_recall drops from 1.000 to 0.900"]
    with session_scope(database_url) as session:
        active = active_version(session)
        assert (active.data_hash, active.promoted_by, active.forced_reason) == (
            "worse",
            "lead",
            "rules fix ships next week",
        )
    assert statuses(database_url)["first.tar.gz"] == "retired"


def test_a_force_reason_without_objections_is_not_recorded(database_url):
    with session_scope(database_url) as session:
        promote(session, add_version(session, "first"), "m")
        assert promote(session, add_version(session, "second"), "m", force_reason="why not") == []
        assert active_version(session).forced_reason is None


def test_a_failed_swap_changes_nothing(database_url):
    def refuse(path: Path) -> None:
        raise RuntimeError("the Rasa server refused the model")

    with session_scope(database_url) as session:
        promote(session, add_version(session, "first"), "m")
        second = add_version(session, "second")
        with pytest.raises(RuntimeError):
            promote(session, second, "m", swap=refuse)
        assert second.promoted_at is None
    assert statuses(database_url) == {"first.tar.gz": "active", "second.tar.gz": "candidate"}


def test_promoting_the_active_model_again_keeps_it_active(database_url):
    with session_scope(database_url) as session:
        first = add_version(session, "first")
        promote(session, first, "m")
        assert promote(session, first, "m") == []
    assert statuses(database_url) == {"first.tar.gz": "active"}


def test_rollback_returns_to_the_previous_model(database_url):
    swapped = []
    with session_scope(database_url) as session:
        promote(session, add_version(session, "first"), "m")
        promote(session, add_version(session, "second"), "m")
        promote(session, add_version(session, "third"), "m")
        add_version(session, "refused", status="refused")
        previous = rollback(session, "on-call", swap=swapped.append)
        assert (previous.data_hash, previous.promoted_by) == ("second", "on-call")
    assert swapped == [Path("/models/second.tar.gz")]
    assert statuses(database_url) == {
        "first.tar.gz": "retired",
        "second.tar.gz": "active",
        "third.tar.gz": "retired",
        "refused.tar.gz": "refused",
    }


def test_rollback_without_an_earlier_model(database_url):
    with session_scope(database_url) as session:
        promote(session, add_version(session, "only"), "m")
        add_version(session, "refused", status="refused")
        with pytest.raises(LookupError, match="no earlier model"):
            rollback(session, "on-call")
    assert statuses(database_url)["only.tar.gz"] == "active"


def test_a_failed_rollback_swap_changes_nothing(database_url):
    def refuse(path: Path) -> None:
        raise RuntimeError("down")

    with session_scope(database_url) as session:
        promote(session, add_version(session, "first"), "m")
        promote(session, add_version(session, "second"), "m")
        with pytest.raises(RuntimeError):
            rollback(session, "on-call", swap=refuse)
    assert statuses(database_url) == {"first.tar.gz": "retired", "second.tar.gz": "active"}


# --- load_into_server: PUT /model to a stand-in for the Rasa HTTP API (conftest.rasa_api) ---------


def test_load_into_server_puts_the_absolute_model_path(rasa_api, tmp_path, monkeypatch):
    url, received, _ = rasa_api
    monkeypatch.chdir(tmp_path)
    load_into_server(url + "/", "s3cret", Path("models/clinic-abc.tar.gz"))
    assert received == [
        (
            "PUT",
            "/model?token=s3cret",
            {"model_file": str(tmp_path / "models" / "clinic-abc.tar.gz")},
        )
    ]


def test_load_into_server_raises_when_rasa_refuses(rasa_api, tmp_path):
    url, _, reply = rasa_api
    reply.update(status=400, body=b'{"message": "no such model"}')
    with pytest.raises(RuntimeError, match=r"refused the model \(HTTP 400\).*no such model"):
        load_into_server(url, "s3cret", tmp_path / "missing.tar.gz")
