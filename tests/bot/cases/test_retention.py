"""The retention purge on a temporary database: Rasa's own SQL tracker store writes the
conversations, the bot's code writes escalations, notes and the audit log."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select, text, update

from bot.cases import casework
from bot.cases.accounts import create_user
from bot.cases.escalations import EscalationRequest, write_escalation
from bot.cases.retention import PURGED, RESULT_KEYS, RetentionError, purge
from bot.config import DEFAULT_RETENTION_DAYS, Settings, load_settings
from bot.db.models import AuditEntry, Escalation, EscalationNote, InboxItem, StaffUser
from bot.db.session import make_engine, session_scope

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.timezone.utc)
DAYS = 365
OLD = NOW - dt.timedelta(days=400)
RECENT = NOW - dt.timedelta(days=10)
# Patient text that must not survive a purge anywhere in the database.
SECRET = "my name is Zed Quorn and my number is 0161 496 0000"


# --- helpers ------------------------------------------------------------------------------
@pytest.fixture
def tracker_store(database_url):
    """Rasa's real SQL tracker store on the test database (it creates the ``events`` table),
    configured the way endpoints.yml does: the database URL as the host."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    store = SQLTrackerStore(Domain.empty(), host=database_url)
    yield store
    store.engine.dispose()


def save_conversation(store, sender: str, times: list[dt.datetime], words: str = SECRET) -> None:
    """One patient message and one bot reply per time, stored by Rasa."""
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = []
    for when in times:
        events.append(UserUttered(words, timestamp=when.timestamp()))
        events.append(BotUttered("Thank you.", timestamp=when.timestamp() + 1))
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def stored_events(store, sender: str) -> int:
    tracker = asyncio.run(store.retrieve_full_tracker(sender))
    return len(tracker.events) if tracker else 0


def naive(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.timezone.utc).replace(tzinfo=None)


@pytest.fixture
def staff_user(database_url) -> int:
    with session_scope(database_url) as session:
        return create_user(session, "sam", "correct-horse-battery", "staff").id


def make_escalation(
    database_url: str,
    created: dt.datetime,
    conversation: str | None = None,
    priority: str = "normal",
) -> int:
    conversation = conversation or f"web-{uuid.uuid4().hex}"
    escalation_id = write_escalation(
        database_url,
        EscalationRequest(
            dedup_key=f"{conversation}:{uuid.uuid4().hex}",
            conversation_id=conversation,
            reason="urgent" if priority == "urgent" else "clinical",
            priority=priority,
            transcript=[{"who": "patient", "text": SECRET, "timestamp": created.timestamp()}],
        ),
    )
    with session_scope(database_url) as session:
        session.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id)
            .values(created_at=naive(created), updated_at=naive(created))
        )
    return escalation_id


def work_on(
    database_url: str, escalation_id: int, user_id: int, resolved: dt.datetime | None
) -> None:
    """What staff do in the console (each step audited): view, note, and resolve at a time."""
    with session_scope(database_url) as session:
        user = session.get(StaffUser, user_id)
        escalation = casework.get_case(session, escalation_id, user)
        casework.add_note(session, escalation, user, f"called back: {SECRET}")
        if resolved is not None:
            casework.resolve(session, escalation, user, "called_patient")
            session.flush()
            escalation.resolved_at = naive(resolved)


def resolve_without_audit(database_url: str, escalation_id: int, resolved: dt.datetime) -> None:
    """A resolved escalation the audit log never mentions (e.g. resolved by a script)."""
    with session_scope(database_url) as session:
        session.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id)
            .values(status="resolved", outcome="no_action_needed", resolved_at=naive(resolved))
        )


def add_inbox_item(database_url: str, last_seen: dt.datetime, message: str) -> int:
    with session_scope(database_url) as session:
        item = InboxItem(
            text_key=message.lower(),
            message=message,
            count=1,
            first_seen=naive(last_seen),
            last_seen=naive(last_seen),
            sources=["fallback"],
        )
        session.add(item)
        session.flush()
        return item.id


def database_text(database_url: str) -> str:
    """Every row of every table, as text: where patient words could hide."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return "\n".join(
                repr(row)
                for name in inspect(engine).get_table_names()
                for row in connection.execute(text(f'SELECT * FROM "{name}"'))
            )
    finally:
        engine.dispose()


def audit_entries(database_url: str, action: str | None = None) -> list[AuditEntry]:
    with session_scope(database_url) as session:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action:
            query = query.where(AuditEntry.action == action)
        return list(session.scalars(query))


# --- conversations ------------------------------------------------------------------------
def test_an_old_conversation_goes_whole_and_one_with_a_recent_event_stays_whole(
    database_url, tracker_store
):
    save_conversation(tracker_store, "old", [OLD, OLD + dt.timedelta(days=1)])
    save_conversation(tracker_store, "returning", [OLD, RECENT])
    save_conversation(tracker_store, "recent", [RECENT])
    before = stored_events(tracker_store, "returning")

    counts = purge(database_url, DAYS, now=NOW)

    assert stored_events(tracker_store, "old") == 0
    assert stored_events(tracker_store, "returning") == before  # not half of it
    assert stored_events(tracker_store, "recent") > 0
    assert counts["conversations_deleted"] == 1
    assert counts["tracker_events_deleted"] == 4  # two messages and two replies


def test_the_conversation_of_a_kept_escalation_is_kept(database_url, tracker_store):
    save_conversation(tracker_store, "web-open-case", [OLD])
    make_escalation(database_url, OLD, "web-open-case", priority="urgent")

    counts = purge(database_url, DAYS, now=NOW)

    assert stored_events(tracker_store, "web-open-case") > 0
    assert counts["conversations_kept_for_escalations"] == 1
    assert counts["conversations_deleted"] == 0


def test_works_before_rasa_created_its_table(database_url, staff_user):
    assert "events" not in inspect(make_engine(database_url)).get_table_names()
    old = make_escalation(database_url, OLD)
    resolve_without_audit(database_url, old, OLD)

    counts = purge(database_url, DAYS, now=NOW)

    assert counts["conversations_deleted"] == counts["tracker_events_deleted"] == 0
    assert counts["escalations_deleted"] == 1


# --- escalations --------------------------------------------------------------------------
def test_an_old_resolved_escalation_goes_with_its_notes(database_url, staff_user):
    untouched = make_escalation(database_url, OLD)
    resolve_without_audit(database_url, untouched, OLD)
    worked = make_escalation(database_url, OLD)
    work_on(database_url, worked, staff_user, resolved=OLD + dt.timedelta(hours=2))

    counts = purge(database_url, DAYS, now=NOW)

    assert counts["escalations_deleted"] == 1
    # The audit log (append-only, with a real foreign key) refers to the worked one: the row
    # stays for the log and the figures, without anything the patient or staff wrote.
    assert counts["escalations_scrubbed"] == 1
    assert counts["escalation_notes_deleted"] == 1
    with session_scope(database_url) as session:
        assert session.get(Escalation, untouched) is None
        row = session.get(Escalation, worked)
        assert (row.transcript, row.conversation_id) == ([], PURGED)
        assert (row.status, row.outcome, row.reason) == ("resolved", "called_patient", "clinical")
        assert session.scalars(select(EscalationNote)).all() == []
    assert {e.action for e in audit_entries(database_url) if e.escalation_id == worked} == {
        "view",
        "note",
        "resolve",
    }


def test_no_trace_of_old_patient_text_is_left_anywhere(database_url, tracker_store, staff_user):
    for _ in range(2):
        escalation_id = make_escalation(database_url, OLD)
        work_on(database_url, escalation_id, staff_user, resolved=OLD)
    save_conversation(tracker_store, "web-gone", [OLD])
    add_inbox_item(database_url, OLD, "Zed Quorn asks about <phone>")
    assert "Zed Quorn" in database_text(database_url)

    purge(database_url, DAYS, now=NOW)

    assert "Zed Quorn" not in database_text(database_url)
    assert "0161 496 0000" not in database_text(database_url)


def test_contact_details_go_with_the_conversation(database_url, tracker_store, staff_user):
    from bot.cases.patient_contact import ContactDetails, record_contact

    audited, silent = make_escalation(database_url, OLD), make_escalation(database_url, OLD)
    for escalation_id, email in ((audited, "zed.quorn@example.org"), (silent, None)):
        details = (
            ContactDetails("email", name="Zed Quorn", email=email)
            if email
            else ContactDetails("phone", name="Zed Quorn", phone="+44 161 496 0000")
        )
        assert record_contact(database_url, escalation_id, details)
    work_on(database_url, audited, staff_user, resolved=OLD)
    resolve_without_audit(database_url, silent, OLD)
    assert "zed.quorn@example.org" in database_text(database_url)

    counts = purge(database_url, DAYS, now=NOW)

    assert (counts["escalations_scrubbed"], counts["escalations_deleted"]) == (1, 1)
    remaining = database_text(database_url)
    for detail in ("Zed Quorn", "zed.quorn@example.org", "+44 161 496 0000"):
        assert detail not in remaining
    with session_scope(database_url) as session:
        scrubbed = session.get(Escalation, audited)
        assert (scrubbed.contact_method, scrubbed.contact_consent_at) == (None, None)


def test_an_open_or_claimed_old_escalation_is_kept_and_reported(database_url, staff_user):
    urgent = make_escalation(database_url, OLD, priority="urgent")
    claimed = make_escalation(database_url, OLD)
    with session_scope(database_url) as session:
        user = session.get(StaffUser, staff_user)
        casework.claim(session, session.get(Escalation, claimed), user)
        casework.add_note(session, session.get(Escalation, claimed), user, "left a voicemail")

    counts = purge(database_url, DAYS, now=NOW)

    assert counts["unresolved_escalations_kept"] == 2
    assert counts["escalations_deleted"] == counts["escalations_scrubbed"] == 0
    assert counts["escalation_notes_deleted"] == 0
    with session_scope(database_url) as session:
        assert session.get(Escalation, urgent).transcript[0]["text"] == SECRET
        assert session.get(Escalation, claimed).status == "claimed"
        assert len(session.scalars(select(EscalationNote)).all()) == 1


def test_recent_data_is_kept(database_url, staff_user):
    recent = make_escalation(database_url, RECENT)
    work_on(database_url, recent, staff_user, resolved=RECENT)
    # Opened long ago, resolved (again) recently: closed within the period, so kept.
    late = make_escalation(database_url, OLD)
    work_on(database_url, late, staff_user, resolved=RECENT)
    item = add_inbox_item(database_url, RECENT, "how long does it last")

    counts = purge(database_url, DAYS, now=NOW)

    assert counts["escalations_deleted"] == counts["escalations_scrubbed"] == 0
    with session_scope(database_url) as session:
        assert session.get(Escalation, recent).transcript[0]["text"] == SECRET
        assert session.get(Escalation, late).transcript[0]["text"] == SECRET
        assert len(session.scalars(select(EscalationNote)).all()) == 2
        assert session.get(InboxItem, item) is not None


def test_old_inbox_items_go(database_url):
    old = add_inbox_item(database_url, OLD, "old question")
    add_inbox_item(database_url, RECENT, "new question")
    assert purge(database_url, DAYS, now=NOW)["inbox_items_deleted"] == 1
    with session_scope(database_url) as session:
        assert session.get(InboxItem, old) is None
        assert len(session.scalars(select(InboxItem)).all()) == 1


# --- dry run, audit, idempotence, refusals ------------------------------------------------
def _some_old_data(database_url: str, store, user_id: int) -> None:
    save_conversation(store, "web-old", [OLD])
    resolved = make_escalation(database_url, OLD)
    work_on(database_url, resolved, user_id, resolved=OLD)
    untouched = make_escalation(database_url, OLD)
    resolve_without_audit(database_url, untouched, OLD)
    make_escalation(database_url, OLD, priority="urgent")  # open
    add_inbox_item(database_url, OLD, "old question")


def test_dry_run_deletes_nothing_and_counts_what_a_real_run_deletes(
    database_url, tracker_store, staff_user
):
    _some_old_data(database_url, tracker_store, staff_user)
    before = database_text(database_url)

    planned = purge(database_url, DAYS, now=NOW, dry_run=True)

    assert database_text(database_url) == before  # no audit entry either
    assert purge(database_url, DAYS, now=NOW) == planned
    assert planned == {
        "conversations_deleted": 1,
        "tracker_events_deleted": 2,
        "escalations_deleted": 1,
        "escalations_scrubbed": 1,
        "escalation_notes_deleted": 1,
        "inbox_items_deleted": 1,
        "unresolved_escalations_kept": 1,
        "conversations_kept_for_escalations": 0,
    }


def test_the_purge_is_audited_with_counts_only(database_url, tracker_store, staff_user):
    _some_old_data(database_url, tracker_store, staff_user)
    earlier = audit_entries(database_url)

    counts = purge(database_url, DAYS, now=NOW)

    [entry] = audit_entries(database_url, "retention_purge")
    assert entry.username == "retention" and entry.user_id is None
    assert entry.escalation_id is None
    assert {key: entry.detail[key] for key in RESULT_KEYS} == counts
    assert entry.detail["older_than_days"] == DAYS
    # Every earlier entry is still there, unchanged (the log is append-only).
    assert [(e.id, e.action, e.detail) for e in audit_entries(database_url)][:-1] == [
        (e.id, e.action, e.detail) for e in earlier
    ]


def test_a_second_purge_finds_nothing_more(database_url, tracker_store, staff_user):
    _some_old_data(database_url, tracker_store, staff_user)
    purge(database_url, DAYS, now=NOW)
    again = purge(database_url, DAYS, now=NOW)
    assert {key: value for key, value in again.items() if value} == {
        "unresolved_escalations_kept": 1
    }


@pytest.mark.parametrize("days", [0, -1, -365, True, 1.5, "30"])
def test_a_period_below_one_day_or_not_whole_days_is_refused(database_url, days):
    with pytest.raises(RetentionError):
        purge(database_url, days, now=NOW)
    assert audit_entries(database_url) == []


def test_a_database_without_the_bots_tables_is_refused(tmp_path):
    with pytest.raises(RetentionError, match="bot db upgrade"):
        purge(f"sqlite:///{tmp_path / 'empty.db'}", DAYS, now=NOW)


def test_settings_are_accepted_as_well_as_a_url(settings):
    assert set(purge(settings, DAYS, now=NOW)) == set(RESULT_KEYS)


# --- configuration and command line -------------------------------------------------------
def test_retention_days_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("CLINIC_RETENTION_DAYS", raising=False)
    assert load_settings().retention_days == DEFAULT_RETENTION_DAYS == 365
    monkeypatch.setenv("CLINIC_RETENTION_DAYS", " 90 ")
    assert load_settings().retention_days == 90


@pytest.mark.parametrize("value", ["0", "-5", "a year", "1.5"])
def test_an_invalid_retention_setting_is_a_clear_error(monkeypatch, value):
    monkeypatch.setenv("CLINIC_RETENTION_DAYS", value)
    with pytest.raises(ValueError, match="CLINIC_RETENTION_DAYS"):
        load_settings()


@pytest.fixture
def cli_env(monkeypatch, settings: Settings):
    monkeypatch.setenv("CLINIC_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CLINIC_VAR_DIR", str(settings.var_dir))
    monkeypatch.delenv("CLINIC_RETENTION_DAYS", raising=False)
    return settings


def test_the_command_prints_counts_and_warns_about_unresolved_cases(cli_env, staff_user):
    from bot.cli import main

    database_url = cli_env.database_url
    # Relative to the real clock: the command has no --now.
    real_now = dt.datetime.now(dt.timezone.utc)
    old = make_escalation(database_url, real_now - dt.timedelta(days=40))
    resolve_without_audit(database_url, old, real_now - dt.timedelta(days=40))
    make_escalation(database_url, real_now - dt.timedelta(days=40), priority="urgent")

    dry = CliRunner().invoke(main, ["retention", "purge", "--days", "30", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would delete data older than 30 days" in dry.output
    assert "escalations deleted: 1" in dry.output
    assert "1 unresolved escalations are older than 30 days" in dry.output
    with session_scope(database_url) as session:
        assert session.get(Escalation, old) is not None

    real = CliRunner().invoke(main, ["retention", "purge", "--days", "30"])
    assert real.exit_code == 0, real.output
    assert "deleted data older than 30 days" in real.output
    with session_scope(database_url) as session:
        assert session.get(Escalation, old) is None

    # Default period from the settings (365 days): nothing that recent goes.
    default = CliRunner().invoke(main, ["retention", "purge"])
    assert default.exit_code == 0 and "older than 365 days" in default.output


@pytest.mark.parametrize("days", ["0", "-3", "soon"])
def test_the_command_refuses_a_bad_period(cli_env, days):
    from bot.cli import main

    result = CliRunner().invoke(main, ["retention", "purge", "--days", days])
    assert result.exit_code == 2 and "--days" in result.output
    assert audit_entries(cli_env.database_url) == []


# --- PostgreSQL ---------------------------------------------------------------------------
def test_purge_works_on_postgresql(postgres_url):  # noqa: F811
    """Same statements on PostgreSQL: its audit-log trigger and foreign keys are strict."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain

    from bot.db.migrate import upgrade

    upgrade(postgres_url)
    store = SQLTrackerStore(Domain.empty(), host=postgres_url)
    try:
        with session_scope(postgres_url) as session:
            user_id = create_user(session, "pg-sam", "correct-horse-battery", "staff").id
        _some_old_data(postgres_url, store, user_id)
        save_conversation(store, "web-returning", [OLD, RECENT])

        planned = purge(postgres_url, DAYS, now=NOW, dry_run=True)
        counts = purge(postgres_url, DAYS, now=NOW)

        assert counts == planned
        assert counts["conversations_deleted"] == 1
        assert counts["escalations_deleted"] == counts["escalations_scrubbed"] == 1
        assert counts["unresolved_escalations_kept"] == 1
        assert stored_events(store, "web-old") == 0
        assert stored_events(store, "web-returning") == 4
        assert "Zed Quorn" not in "".join(
            str(e.transcript) for e in _all(postgres_url, Escalation) if e.status == "resolved"
        )
        assert len(audit_entries(postgres_url, "retention_purge")) == 1
    finally:
        store.engine.dispose()


def _all(database_url: str, model) -> list:  # noqa: ANN001
    with session_scope(database_url) as session:
        return list(session.scalars(select(model)))
