"""Creating escalations. Urgent ones are never lost: failed writes are spooled and retried."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.cases.notify import UrgentNotifier
from bot.config import Settings
from bot.db.models import PRIORITY_URGENT, STATUS_OPEN, Escalation, utcnow
from bot.db.session import session_scope
from bot.reply import REPLY_METADATA_KEY

logger = logging.getLogger(__name__)

RETRY_DELAYS_S = (0.2, 1.0)  # in-request retries before spooling
SPOOL_RETRY_INTERVAL_S = 10.0


@dataclass
class EscalationRequest:
    """What an action knows when it hands a conversation to staff."""

    dedup_key: str
    conversation_id: str
    reason: str
    priority: str
    trigger_intent: str | None = None
    matched_rule: str | None = None
    transcript: list[dict] = field(default_factory=list)


def conversation_transcript(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Patient and bot turns of the conversation so far, with what the bot understood."""
    turns: list[dict[str, Any]] = []
    for event in events:
        if event.get("event") == "user":
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            turns.append(
                {
                    "who": "patient",
                    "text": event.get("text"),
                    "intent": intent.get("name"),
                    "confidence": intent.get("confidence"),
                    "safety": parse.get("safety"),
                    "timestamp": event.get("timestamp"),
                }
            )
        elif event.get("event") == "bot":
            meta = (event.get("metadata") or {}).get(REPLY_METADATA_KEY) or {}
            turns.append(
                {
                    "who": "bot",
                    "text": event.get("text"),
                    "kind": meta.get("kind"),
                    "answer_id": meta.get("answer_id"),
                    "timestamp": event.get("timestamp"),
                }
            )
    return turns


def message_dedup_key(sender_id: str, message: dict[str, Any], fallback_id: str = "") -> str:
    """The key of one patient message: the widget's own id for it when it sent one (a resend
    after a lost reply is processed again by Rasa but must not open a second escalation), else
    Rasa's message id. The inbox finds a handed-off message by the same key."""
    client_id = (message.get("metadata") or {}).get("client_id")
    message_id = (
        f"client-{client_id}"
        if isinstance(client_id, str) and client_id
        else message.get("message_id") or fallback_id
    )
    return f"{sender_id}:{message_id}"[:100]


def request_for_latest_message(
    state: dict[str, Any], reason: str, priority: str, dedup_suffix: str = ""
) -> EscalationRequest:
    """An escalation for the latest patient message; retries of it share one dedup key."""
    latest = state.get("latest_message") or {}
    events = state.get("events") or []
    safety = latest.get("safety") or {}
    key = message_dedup_key(state["sender_id"], latest, str(len(events)))
    return EscalationRequest(
        dedup_key=(key + dedup_suffix)[:100] if dedup_suffix else key,
        conversation_id=state["sender_id"],
        reason=reason,
        priority=priority,
        trigger_intent=(latest.get("intent") or {}).get("name"),
        matched_rule=safety.get("rule") if safety.get("fired") else None,
        transcript=conversation_transcript(events),
    )


def write_escalation(database_url: str, request: EscalationRequest) -> int:
    """Insert the escalation (once per ``dedup_key``) and return its id."""
    return insert_escalation(database_url, request)[0]


def insert_escalation(database_url: str, request: EscalationRequest) -> tuple[int, bool]:
    """Insert the escalation once per ``dedup_key``; returns its id and whether this call
    created it (False when an earlier attempt, a resend or the spool already had)."""
    try:
        with session_scope(database_url) as session:
            row = Escalation(
                dedup_key=request.dedup_key,
                conversation_id=request.conversation_id,
                reason=request.reason,
                priority=request.priority,
                status=STATUS_OPEN,
                created_at=utcnow(),
                trigger_intent=request.trigger_intent,
                matched_rule=request.matched_rule,
                transcript=request.transcript,
            )
            session.add(row)
            session.flush()
            return row.id, True
    except IntegrityError:
        with session_scope(database_url) as session:
            existing = session.scalars(
                select(Escalation.id).where(Escalation.dedup_key == request.dedup_key)
            ).first()
            if existing is None:
                raise
            return existing, False


class EscalationWriter:
    """Writes escalations; for urgent ones, retries and spools to disk rather than lose them."""

    def __init__(
        self, database_url: str, spool_dir: Path, notifier: UrgentNotifier | None = None
    ) -> None:
        self.database_url = database_url
        self.spool_dir = spool_dir
        self.notifier = notifier
        self._retry_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # Spool files a background write is handling right now: the retry loop leaves them be.
        self._in_flight: set[str] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> EscalationWriter:
        """The writer every process uses: the same spool and the same urgent notifier."""
        notifier = (
            UrgentNotifier(settings.urgent_webhook_url, settings.public_url)
            if settings.urgent_webhook_url
            else None
        )
        return cls(settings.database_url, settings.spool_dir, notifier)

    def write(self, request: EscalationRequest, spool_on_failure: bool = True) -> int | None:
        """Write now; returns the id, or None when an urgent one was spooled for retry
        (or, with ``spool_on_failure=False``, could not be written: the caller spooled it).

        Raises:
            SQLAlchemyError: for a normal-priority escalation the database refused.
        """
        attempts = len(RETRY_DELAYS_S) + 1 if request.priority == PRIORITY_URGENT else 1
        failed_before = False
        for attempt in range(attempts):
            try:
                escalation_id, created = insert_escalation(self.database_url, request)
            except SQLAlchemyError as error:
                failed_before = True
                logger.error("escalation write failed (attempt %d): %s", attempt + 1, error)
                if request.priority != PRIORITY_URGENT:
                    raise
                if attempt < len(RETRY_DELAYS_S):
                    time.sleep(RETRY_DELAYS_S[attempt])
                continue
            if created or failed_before:
                # A failed attempt may have committed without our knowing: announce at least
                # once; a resend of a message that was already written is not announced again.
                logger.info(
                    "escalation %s created: reason=%s priority=%s",
                    escalation_id,
                    request.reason,
                    request.priority,
                )
                self._notify(escalation_id, request)
            return escalation_id
        if spool_on_failure and not self._spool(request):
            raise RuntimeError("urgent escalation could be neither written nor spooled")
        return None

    def write_or_spool(self, request: EscalationRequest) -> int | None:
        """Like :meth:`write`, but a normal-priority escalation is spooled too, never raised:
        for callers that have no other way to tell anyone (see ``bot.rasa_server.recovery``)."""
        try:
            return self.write(request)
        except SQLAlchemyError:
            if not self._spool(request):
                raise
            return None

    def _notify(self, escalation_id: int, request: EscalationRequest) -> None:
        if self.notifier is not None and request.priority == PRIORITY_URGENT:
            self.notifier.send_in_background(escalation_id, request.reason)

    def record_urgent(self, request: EscalationRequest) -> bool:
        """Make an urgent escalation durable at once and write it to the database in the
        background: the caller sends the emergency instruction without waiting for the database.

        The request goes to the spool first (one small local file, written atomically), so it
        survives a database outage and a crash of this process; the background write removes it.
        Returns True when it is safely on disk; False when the disk refused (logged at
        CRITICAL), in which case the background write, with its retries, is the only copy.
        """
        name = self.spool_path(request.dedup_key).name
        with self._lock:
            self._in_flight.add(name)
        spooled = self._spool(request, start_retry=False)
        try:
            # Not a daemon: the interpreter waits for the write before it exits.
            threading.Thread(
                target=self._write_spooled, args=(request, spooled), name="urgent-escalation"
            ).start()
        except RuntimeError:  # no thread to be had: write now rather than not at all
            logger.critical("no thread for the urgent escalation write", exc_info=True)
            self._write_spooled(request, spooled)
        return spooled

    def _write_spooled(self, request: EscalationRequest, spooled: bool) -> None:
        path = self.spool_path(request.dedup_key)
        try:
            escalation_id = self.write(request, spool_on_failure=not spooled)
        except Exception:  # noqa: BLE001 - log loudly; the spool file keeps the request
            logger.critical(
                "URGENT ESCALATION WRITE FAILED for conversation %s",
                request.conversation_id,
                exc_info=True,
            )
            escalation_id = None
        try:
            if escalation_id is not None and spooled:
                path.unlink(missing_ok=True)
        except OSError:
            logger.error("spool file %s could not be removed", path.name, exc_info=True)
        finally:
            with self._lock:
                self._in_flight.discard(path.name)
        if escalation_id is None and spooled:
            self._start_retry_thread()

    def spool_path(self, dedup_key: str) -> Path:
        """The spool file of one request: named by a hash, never by the sender's own text."""
        digest = hashlib.sha256(dedup_key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return self.spool_dir / f"escalation-{digest}.json"

    def _spool(self, request: EscalationRequest, start_retry: bool = True) -> bool:
        """Writes the request to the spool; False (logged at CRITICAL) if the disk refused."""
        path = self.spool_path(request.dedup_key)
        try:
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(f".{threading.get_ident()}.tmp")
            temporary.write_text(json.dumps(asdict(request)), encoding="utf-8")
            temporary.replace(path)  # atomic: the retry loop never reads half a file
        except (OSError, ValueError, TypeError):
            logger.critical(
                "%s ESCALATION COULD NOT BE SPOOLED for conversation %s",
                request.priority.upper(),
                request.conversation_id,
                exc_info=True,
            )
            return False
        if start_retry:
            logger.critical(
                "%s ESCALATION NOT IN DATABASE: conversation %s spooled to %s; retrying every %ss",
                request.priority.upper(),
                request.conversation_id,
                path,
                SPOOL_RETRY_INTERVAL_S,
            )
            self._start_retry_thread()
        return True

    def _start_retry_thread(self) -> None:
        with self._lock:
            if self._retry_thread is not None:
                return  # the running loop re-checks the spool under this lock before it ends
            self._retry_thread = threading.Thread(
                target=self._retry_until_empty, name="urgent-spool-retry", daemon=True
            )
            self._retry_thread.start()

    def _retry_until_empty(self) -> None:
        try:
            while True:
                try:
                    waiting = self.flush_spool()
                except Exception:  # noqa: BLE001 - the loop must outlive any one bad pass
                    logger.critical("spool retry pass failed", exc_info=True)
                    waiting = 1
                if waiting == 0:
                    with self._lock:
                        # A file spooled after the pass above keeps the loop alive; otherwise
                        # the next _start_retry_thread (waiting for this lock) starts a new one.
                        try:
                            empty = not self.pending()
                        except OSError:
                            empty = False
                        if empty:
                            self._retry_thread = None
                            return
                time.sleep(SPOOL_RETRY_INTERVAL_S)
        finally:
            with self._lock:  # however it ended, a later spool starts a new loop
                if self._retry_thread is threading.current_thread():
                    self._retry_thread = None

    def pending(self) -> list[Path]:
        return sorted(self.spool_dir.glob("escalation-*.json")) if self.spool_dir.exists() else []

    def flush_spool(self) -> int:
        """Try every spooled escalation once; returns how many are still waiting.

        A file that is not a request is renamed ``*.unreadable`` and logged at CRITICAL (for a
        person to look at), so that it neither blocks the others nor loops; one the disk could
        not read is tried again.
        """
        waiting = 0
        for path in self.pending():
            with self._lock:
                in_flight = path.name in self._in_flight
            if in_flight:
                waiting += 1  # its own background write is on it
                continue
            try:
                request = EscalationRequest(**json.loads(path.read_text(encoding="utf-8")))
            except FileNotFoundError:
                continue  # written and removed by a background write meanwhile
            except OSError:
                waiting += 1  # out of file handles, a disk error: try again next pass
                logger.critical("spooled escalation %s could not be read", path.name, exc_info=True)
                continue
            except (ValueError, TypeError):  # not JSON, not UTF-8, not a request
                logger.critical("SPOOLED ESCALATION UNREADABLE: %s", path.name, exc_info=True)
                aside = path.with_name(f"{path.stem}-{time.time_ns()}.unreadable")
                try:
                    path.replace(aside)
                except OSError:
                    waiting += 1  # still there: keep the loop (and its CRITICAL log) going
                continue
            try:
                escalation_id, created = insert_escalation(self.database_url, request)
            except Exception as error:  # noqa: BLE001 - keep it spooled and try the rest
                waiting += 1
                logger.critical("spooled urgent escalation %s still not written: %s", path, error)
                continue
            try:
                path.unlink(missing_ok=True)
            except OSError:
                logger.error("spool file %s could not be removed", path.name, exc_info=True)
            logger.warning("spooled escalation %s written as id %s", path.name, escalation_id)
            # Still spooled, so nobody knows it was announced (the process may have died
            # between the write and the page): announce at least once.
            self._notify(escalation_id, request)
        return waiting
