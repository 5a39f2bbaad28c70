"""Deleting patient data older than the retention period (``bot retention purge``).

What goes, once it is older than the cut-off (``CLINIC_RETENTION_DAYS``, 365 by default):

- **Conversations** in Rasa's tracker store (table ``events``): a conversation goes as a whole
  once its *newest* event is older than the cut-off, never half of one. A conversation that an
  escalation still kept in the database refers to (an unresolved one, or one resolved recently)
  stays with it, so staff never lose the transcript of a case they still work on.
- **Resolved escalations** created *and* resolved before the cut-off (so a case closed yesterday
  stays visible for the whole period), with their staff notes. Staff views, claims and
  resolutions are in the append-only audit log, whose ``escalation_id`` is a real foreign key and
  whose rows the database refuses to change: an escalation the audit log refers to therefore
  cannot be deleted without breaking the log. Such a row is *scrubbed* instead: its transcript is
  emptied and its conversation id and dedup key (which contains the conversation id) replaced,
  so it keeps no patient text, only what the audit entries and the overview figures need
  (reason, priority, dates, outcome). Escalations nobody ever touched are deleted outright.
- **Inbox items** (missed questions kept for training, redacted) last seen before the cut-off.

What stays:

- **Unresolved escalations** (open or claimed), however old: an unhandled urgent case is never
  deleted silently. They are counted in the result so the command can warn about them.
- **The audit log**: append-only by design. Its entries carry ids, actions, user names and
  counts, never message text (``bot/cases/casework.py`` records a note's length, not the note).
- Spooled urgent escalations in ``var/spool/`` (not written to the database yet) and the training
  data already merged into ``data/nlu/`` (redacted; under version control).

Every purge writes one audit entry (actor ``retention``) with the counts. All changes happen in
one database transaction; a dry run executes the same statements and rolls them back, so its
counts are exactly what a real run would delete at that moment.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator

from sqlalchemy import (
    String,
    and_,
    cast,
    column,
    delete,
    distinct,
    func,
    inspect,
    literal,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.orm import Session

from bot.config import Settings
from bot.db.models import (
    STATUS_RESOLVED,
    AuditEntry,
    Escalation,
    EscalationNote,
    InboxItem,
)
from bot.db.session import session_scope

logger = logging.getLogger(__name__)

# Conversation id of a scrubbed escalation (no tracker conversation has this id).
PURGED = "[purged]"
AUDIT_ACTION = "retention_purge"
AUDIT_ACTOR = "retention"
# Keeps every IN (...) list well below SQLite's and PostgreSQL's bound-parameter limits.
_CHUNK = 500

# Rasa's SQL tracker store table (rasa.core.tracker_store.SQLTrackerStore.SQLEvent); described
# here rather than imported so that purging needs neither Rasa nor the table to exist.
_events = table("events", column("id"), column("sender_id"), column("timestamp"))


class RetentionError(ValueError):
    """The purge was refused: a bad period or a database without the bot's tables."""


def purge(
    settings_or_database_url: Settings | str,
    older_than_days: int,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> dict[str, int]:
    """Deletes patient data older than ``older_than_days`` days (see the module docstring).

    Args:
        settings_or_database_url: The settings, or the database URL, of the bot's database
            (which also holds Rasa's tracker store).
        older_than_days: The retention period in days; at least 1.
        now: The current time (tests); naive values are taken as UTC. Default: now.
        dry_run: Count what would go, delete nothing, write no audit entry.

    Returns:
        Counts by what was deleted, scrubbed or kept, in a stable order (for printing).

    Raises:
        RetentionError: ``older_than_days`` is below 1, or the bot's tables are missing.
    """
    # bool is an int: refuse True/False as a period as well as zero and negatives.
    if isinstance(older_than_days, bool) or not isinstance(older_than_days, int):
        raise RetentionError(f"the retention period must be whole days, not {older_than_days!r}")
    if older_than_days < 1:
        raise RetentionError(f"the retention period must be at least 1 day, not {older_than_days}")
    database_url = (
        settings_or_database_url.database_url
        if isinstance(settings_or_database_url, Settings)
        else settings_or_database_url
    )
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    cutoff = now - dt.timedelta(days=older_than_days)
    # The bot's tables store naive UTC datetimes; Rasa's events store epoch seconds.
    cutoff_naive = cutoff.astimezone(dt.timezone.utc).replace(tzinfo=None)

    with session_scope(database_url) as session:
        tables = set(inspect(session.get_bind()).get_table_names())
        missing = {"escalations", "escalation_notes", "audit_log", "inbox_items"} - tables
        if missing:
            raise RetentionError(
                f"the bot's tables are missing ({', '.join(sorted(missing))}): "
                "run `bot db upgrade` first"
            )
        counts = _purge_escalations(session, cutoff_naive)
        # A fresh database before Rasa ever ran has no tracker store table: nothing to delete.
        counts.update(
            _purge_conversations(session, cutoff.timestamp())
            if "events" in tables
            else dict.fromkeys(_CONVERSATION_KEYS, 0)
        )
        counts["inbox_items_deleted"] = session.execute(
            delete(InboxItem).where(InboxItem.last_seen < cutoff_naive)
        ).rowcount
        result = {key: int(counts[key]) for key in RESULT_KEYS}
        if dry_run:
            session.rollback()  # session_scope's commit then has nothing left to commit
        else:
            from bot.cases.casework import audit

            audit(
                session,
                None,
                AUDIT_ACTION,
                username=AUDIT_ACTOR,
                older_than_days=older_than_days,
                cutoff=cutoff_naive.isoformat(timespec="seconds"),
                **result,
            )
    logger.info(
        "retention purge%s (older than %s days): %s",
        " (dry run)" if dry_run else "",
        older_than_days,
        ", ".join(f"{key}={value}" for key, value in result.items()),
    )
    return result


RESULT_KEYS = (
    "conversations_deleted",
    "tracker_events_deleted",
    "escalations_deleted",
    "escalations_scrubbed",
    "escalation_notes_deleted",
    "inbox_items_deleted",
    "unresolved_escalations_kept",
    "conversations_kept_for_escalations",
)


_CONVERSATION_KEYS = (
    "conversations_deleted",
    "tracker_events_deleted",
    "conversations_kept_for_escalations",
)


def _chunks(values: Iterable[object], size: int = _CHUNK) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _purge_escalations(session: Session, cutoff: dt.datetime) -> dict[str, int]:
    """Deletes (or scrubs, when the audit log refers to them) old resolved escalations."""
    old = Escalation.created_at < cutoff
    purgeable = select(Escalation.id).where(
        old,
        Escalation.status == STATUS_RESOLVED,
        # A case reopened and resolved again recently is still recent.
        or_(Escalation.resolved_at.is_(None), Escalation.resolved_at < cutoff),
        Escalation.conversation_id != PURGED,  # scrubbed by an earlier purge
    )
    ids = list(session.scalars(purgeable))
    counts = {
        "unresolved_escalations_kept": session.scalar(
            select(func.count())
            .select_from(Escalation)
            .where(old, Escalation.status != STATUS_RESOLVED)
        ),
        "escalation_notes_deleted": 0,
        "escalations_deleted": 0,
        "escalations_scrubbed": 0,
    }
    for chunk in _chunks(ids):
        audited = set(
            session.scalars(
                select(distinct(AuditEntry.escalation_id)).where(
                    AuditEntry.escalation_id.in_(chunk)
                )
            )
        )
        # Notes hold staff text about the patient: they go in both cases.
        counts["escalation_notes_deleted"] += session.execute(
            delete(EscalationNote).where(EscalationNote.escalation_id.in_(chunk))
        ).rowcount
        unaudited = [i for i in chunk if i not in audited]
        if unaudited:
            counts["escalations_deleted"] += session.execute(
                delete(Escalation).where(Escalation.id.in_(unaudited))
            ).rowcount
        if audited:
            counts["escalations_scrubbed"] += session.execute(
                update(Escalation)
                .where(Escalation.id.in_(sorted(audited)))
                .values(
                    transcript=[],
                    conversation_id=PURGED,
                    # The dedup key is "<conversation id>:<message id>"; it must stay unique.
                    dedup_key=literal(PURGED + ":") + cast(Escalation.id, String),
                    flagged_for_training=False,
                    # How to reach the patient goes with the conversation.
                    contact_method=None,
                    contact_name=None,
                    contact_phone=None,
                    contact_email=None,
                    contact_consent_at=None,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
    return counts


def _purge_conversations(session: Session, cutoff_ts: float) -> dict[str, int]:
    """Deletes whole tracker-store conversations whose newest event is older than the cut-off."""
    old = set(
        session.scalars(
            select(_events.c.sender_id)
            .group_by(_events.c.sender_id)
            .having(func.max(_events.c.timestamp) < cutoff_ts)
        )
    )
    # Escalations still in the database (unresolved, or resolved within the period) keep their
    # conversation: the staff console shows it from here.
    needed = set(
        session.scalars(
            select(distinct(Escalation.conversation_id)).where(Escalation.conversation_id != PURGED)
        )
    )
    kept = old & needed
    counts = dict.fromkeys(_CONVERSATION_KEYS, 0)
    counts["conversations_kept_for_escalations"] = len(kept)
    for chunk in _chunks(sorted(old - kept)):
        # The age is checked again inside the DELETE: a patient who came back between the
        # SELECT above and now keeps the whole conversation, not just the new event.
        recent = select(_events.c.sender_id).where(
            _events.c.sender_id.in_(chunk), _events.c.timestamp >= cutoff_ts
        )
        counts["tracker_events_deleted"] += session.execute(
            delete(_events).where(
                and_(_events.c.sender_id.in_(chunk), _events.c.sender_id.not_in(recent))
            )
        ).rowcount
        survivors = session.scalar(
            select(func.count(distinct(_events.c.sender_id))).where(_events.c.sender_id.in_(chunk))
        )
        counts["conversations_deleted"] += len(chunk) - survivors
    return counts
