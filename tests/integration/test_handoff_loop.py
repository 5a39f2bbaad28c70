"""The handoff loop on real servers: the patient chooses how to hear back, the contact form
(Rasa form + validation action), a staff reply in the conversation, and human mode, during
which the safety check still answers an emergency at once."""

from __future__ import annotations

import time
import uuid

import pytest

from bot.cases import casework, live_chat
from bot.cases.accounts import create_user
from bot.db.models import Escalation, StaffUser
from bot.db.session import session_scope
from bot.web.rasa_client import RasaClient
from tests.integration.test_end_to_end import escalations_for, say, wait_for_escalations

pytestmark = pytest.mark.slow

CLINICAL = "i take topiramate every day, is botox safe with that"
PHONE = '/choose_contact{"contact_method":"phone"}'
EMAIL = '/choose_contact{"contact_method":"email"}'
CHAT = '/choose_contact{"contact_method":"chat"}'
NO_THANKS = '/choose_contact{"contact_method":"none"}'


def kinds(replies: list[dict]) -> list[str]:
    return [r["metadata"]["kind"] for r in replies]


def asks(replies: list[dict]) -> str | None:
    return next((r["metadata"].get("asks") for r in reversed(replies)), None)


def handed_off(servers) -> tuple[str, int]:
    sender = f"web-{uuid.uuid4().hex}"
    replies = say(servers, CLINICAL, sender)
    assert kinds(replies) == ["handoff", "contact"]
    choice = replies[-1]
    assert [b["title"] for b in choice["buttons"]] == [
        "Reply here in the chat",
        "Call me back",
        "Email me",
        "No thanks, I'll call",
    ]
    [row] = escalations_for(servers, sender)
    assert choice["metadata"]["escalation_id"] == row.id
    return sender, row.id


def escalation(servers, escalation_id: int) -> Escalation:
    with session_scope(servers.settings.database_url) as session:
        return session.get(Escalation, escalation_id)


def test_call_back_by_phone_stores_the_normalised_number_with_consent(servers):
    sender, escalation_id = handed_off(servers)
    assert asks(say(servers, PHONE, sender)) == "contact_name"
    assert asks(say(servers, "Jane Doe", sender)) == "contact_phone"
    consent = say(servers, "(212) 555-2368", sender)
    assert asks(consent) == "contact_consent"
    assert "+1 212-555-2368" in consent[-1]["text"]
    [saved] = say(servers, "/affirm", sender)
    assert saved["metadata"]["recorded"] is True and "Jane Doe" in saved["text"]
    row = escalation(servers, escalation_id)
    assert (row.contact_method, row.contact_name, row.contact_phone) == (
        "phone",
        "Jane Doe",
        "+1 212-555-2368",
    )
    assert row.contact_consent_at is not None
    # The form is over: the next question gets its answer.
    assert kinds(say(servers, "how long does the injection session take", sender)) == ["answer"]


def test_email_asked_again_with_the_reason_then_stored(servers):
    sender, escalation_id = handed_off(servers)
    say(servers, EMAIL, sender)
    assert asks(say(servers, "Ana", sender)) == "contact_email"
    again = say(servers, "ana at example dot org", sender)
    assert asks(again) == "contact_email" and "try again" in again[0]["text"]
    say(servers, "ana@example.org", sender)
    say(servers, "yes please", sender)
    row = escalation(servers, escalation_id)
    assert (row.contact_method, row.contact_email, row.contact_phone) == (
        "email",
        "ana@example.org",
        None,
    )


def test_three_invalid_numbers_give_the_clinic_number_and_keep_nothing(servers, messages):
    sender, escalation_id = handed_off(servers)
    say(servers, PHONE, sender)
    say(servers, "Sam", sender)
    assert asks(say(servers, "12", sender)) == "contact_phone"
    assert asks(say(servers, "call me maybe", sender)) == "contact_phone"
    [gave_up] = say(servers, "999", sender)
    assert messages.clinic["phone"] in gave_up["text"] and gave_up["metadata"]["recorded"] is False
    row = escalation(servers, escalation_id)
    assert (row.contact_method, row.contact_name, row.contact_phone) == (None, None, None)


@pytest.mark.parametrize("leave", ["no", "stop", "/deny"])
def test_no_or_stop_leaves_the_form_and_nothing_is_kept(servers, leave):
    sender, escalation_id = handed_off(servers)
    say(servers, PHONE, sender)
    say(servers, "Jane Doe", sender)
    [cancelled] = say(servers, leave, sender)
    assert cancelled["metadata"]["kind"] == "contact" and "haven't kept" in cancelled["text"]
    assert escalation(servers, escalation_id).contact_name is None
    assert kinds(say(servers, "does it hurt", sender)) == ["answer"]


def test_consent_refused_keeps_nothing(servers):
    sender, escalation_id = handed_off(servers)
    say(servers, PHONE, sender)
    say(servers, "Jane Doe", sender)
    say(servers, "(212) 555-2368", sender)
    [refused] = say(servers, "/deny", sender)
    assert "haven't kept" in refused["text"]
    row = escalation(servers, escalation_id)
    assert (row.contact_phone, row.contact_consent_at) == (None, None)


def test_an_emergency_during_the_form_gets_the_urgent_reply_at_once_and_ends_it(servers):
    sender, _ = handed_off(servers)
    say(servers, PHONE, sender)
    [urgent] = say(servers, "wait, since my injections i can't swallow properly", sender)
    assert urgent["metadata"]["kind"] == "urgent"
    rows = wait_for_escalations(servers, sender, count=2)
    assert {r.priority for r in rows} == {"normal", "urgent"}
    # Not asked for a name again: the form ended.
    assert kinds(say(servers, "how long does the injection session take", sender)) == ["answer"]


def test_a_clinical_question_during_the_form_goes_to_staff_not_into_a_slot(servers):
    sender, escalation_id = handed_off(servers)
    say(servers, PHONE, sender)
    replies = say(servers, "my rash from the injections is getting worse, is that normal?", sender)
    assert kinds(replies) == ["handoff", "contact"]
    assert len(escalations_for(servers, sender)) == 2
    assert escalation(servers, escalation_id).contact_name is None
    # The form ended: an FAQ question is answered, not taken as a name.
    assert kinds(say(servers, "how long does the injection session take", sender)) == ["answer"]


def test_a_message_in_another_language_during_the_form_gets_the_notice_and_ends_it(servers):
    sender, escalation_id = handed_off(servers)
    say(servers, PHONE, sender)
    replies = say(servers, "estou com muita falta de ar desde as injeções", sender)
    assert replies[0]["metadata"]["kind"] in ("handoff", "urgent")
    assert replies[0]["metadata"].get("reason", "language") == "language"
    assert escalation(servers, escalation_id).contact_name is None  # never taken as a name


def test_an_old_choice_button_during_the_form_never_promises_a_call(servers):
    sender, escalation_id = handed_off(servers)
    say(servers, PHONE, sender)
    say(servers, "Jane Doe", sender)
    none = say(servers, NO_THANKS, sender)
    assert [r["metadata"].get("contact_method") for r in none] == ["none"]
    for text in ("(212) 555-2368", "/affirm"):
        for reply in say(servers, text, sender):
            assert "will reach you at" not in reply["text"]  # messages.yml contact_saved
    row = escalation(servers, escalation_id)
    assert (row.contact_method, row.contact_name, row.contact_phone) == ("none", None, None)


def test_reply_here_and_no_thanks_are_recorded(servers):
    sender, escalation_id = handed_off(servers)
    [chat] = say(servers, CHAT, sender)
    assert chat["metadata"]["contact_method"] == "chat"
    assert escalation(servers, escalation_id).contact_method == "chat"
    [none] = say(servers, NO_THANKS, sender)
    assert none["metadata"]["contact_method"] == "none"
    assert escalation(servers, escalation_id).contact_method == "none"


def test_staff_reply_and_human_mode_with_safety_still_on(servers, messages):
    sender, escalation_id = handed_off(servers)
    say(servers, CHAT, sender)
    rasa = RasaClient(servers.rasa_url, servers.token)
    url = servers.settings.database_url
    with session_scope(url) as session:
        user = create_user(session, f"ann.{uuid.uuid4().hex[:6]}", "correct-horse-battery", "staff")
        casework.claim(session, session.get(Escalation, escalation_id), user)
        user_id = user.id
    with session_scope(url) as session:  # as the console does: the claim is committed first
        live_chat.send_reply(
            session,
            rasa,
            session.get(Escalation, escalation_id),
            session.get(StaffUser, user_id),
            "<b>Hello</b>, this is Ann from the clinic.",
            messages,
        )
    turns = rasa.events(sender)
    staff = [e for e in turns if e.get("event") == "bot" and "this is Ann" in (e.get("text") or "")]
    assert staff and staff[0]["metadata"]["reply_metadata"] == {
        "kind": "staff",
        "staff_name": "Ann",
    }

    # Human mode: the assistant is quiet, the message is marked for staff ...
    assert say(servers, "how long does the injection session take", sender) == []
    assert escalation(servers, escalation_id).patient_last_message_at is not None
    # ... but an emergency still gets the urgent reply at once.
    [urgent] = say(servers, "my throat is closing up and i can't breathe", sender)
    assert urgent["metadata"]["kind"] == "urgent"

    with session_scope(url) as session:
        row = session.get(Escalation, escalation_id)
        assert live_chat.end_human_mode(
            session, rasa, row, session.get(StaffUser, user_id), messages
        )
    time.sleep(0.2)
    assert kinds(say(servers, "how long does the injection session take", sender)) == ["answer"]


def test_contact_details_never_reach_the_server_logs(servers):
    """Runs after the flows above (same servers): names, numbers and addresses typed into the
    form are patient data, in the tracker store and on the escalation only."""
    sender, _ = handed_off(servers)
    for text in (PHONE, "Zed Quorn", "(212) 736-5000", "/affirm"):
        say(servers, text, sender)
    sender, _ = handed_off(servers)
    for text in (EMAIL, "Zed Quorn", "zed.quorn@example.org", "yes"):
        say(servers, text, sender)
    logs = "".join(p.read_text(errors="replace") for p in servers.log_dir.glob("*.log"))
    assert logs  # the servers do log
    for detail in ("Zed Quorn", "736-5000", "7365000", "zed.quorn@example.org"):
        assert detail not in logs
