"""Staff in the patient's chat, with Flask's test client and a fake Rasa: the reply goes into
the conversation as a staff message, human mode starts and ends, contact details are shown,
and nothing is sent by someone who has not claimed the case."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.cases.accounts import create_user
from bot.cases.patient_contact import ContactDetails, record_contact
from bot.db.models import AuditEntry, Escalation
from bot.db.session import session_scope
from bot.web import create_app
from tests.bot.web.test_staff import PASSWORD, csrf, login
from tests.helpers import FakeRasa

REPLY = "<script>alert(1)</script> Hello, this is Sam from the clinic."


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def app(settings, loaded_database, rasa):
    with session_scope(settings.database_url) as session:
        create_user(session, "sam.lee", PASSWORD, "staff")
        create_user(session, "ada", PASSWORD, "staff")
    return create_app({"TESTING": True, "SETTINGS": settings, "RASA_CLIENT": rasa})


@pytest.fixture
def case(settings) -> int:
    from bot.cases.escalations import EscalationRequest, write_escalation

    return write_escalation(
        settings.database_url,
        EscalationRequest(
            dedup_key="web-abc:1",
            conversation_id="web-abc",
            reason="clinical",
            priority="normal",
            transcript=[{"who": "patient", "text": "is my rash from the injections?"}],
        ),
    )


def post(client, case: int, action: str, **data: str):
    token = csrf(client, f"/staff/escalations/{case}")
    return client.post(
        f"/staff/escalations/{case}/{action}",
        data={"csrf_token": token, **data},
        follow_redirects=True,
    )


def audit(settings, action: str) -> list[AuditEntry]:
    with session_scope(settings.database_url) as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def bot_events(rasa: FakeRasa, kind: str) -> list[dict]:
    return [
        e
        for e in rasa.events_by_sender.get("web-abc", [])
        if e["event"] == "bot" and e["metadata"]["reply_metadata"]["kind"] == kind
    ]


def slots(rasa: FakeRasa) -> list[tuple[str, object]]:
    return [(e["name"], e["value"]) for e in rasa.events_by_sender.get("web-abc", [])
            if e["event"] == "slot" and e["name"] == "human_mode"]  # fmt: skip


def test_a_reply_before_claiming_is_refused_and_nothing_is_sent(client, case, rasa, settings):
    login(client, "sam.lee")
    page = post(client, case, "reply", reply=REPLY).get_data(as_text=True)
    assert "claim the escalation before you reply" in page
    assert rasa.events_by_sender == {} and audit(settings, "reply") == []


def test_someone_else_s_claim_is_refused_too(client, case, rasa):
    login(client, "ada")
    post(client, case, "claim")
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    login(client, "sam.lee")
    post(client, case, "reply", reply=REPLY)
    assert bot_events(rasa, "staff") == []


def test_a_reply_without_the_csrf_token_is_refused(client, case, rasa):
    login(client, "sam.lee")
    post(client, case, "claim")
    response = client.post(f"/staff/escalations/{case}/reply", data={"reply": REPLY})
    assert response.status_code == 400 and bot_events(rasa, "staff") == []


def test_the_reply_goes_into_the_conversation_as_the_clinic_s_message(
    client, case, rasa, settings
):
    login(client, "sam.lee")
    post(client, case, "claim")
    page = post(client, case, "reply", reply=REPLY).get_data(as_text=True)
    assert "Reply sent to the patient." in page
    [staff] = bot_events(rasa, "staff")
    assert staff["text"] == REPLY.strip()  # as written: the widget renders it as text
    assert staff["metadata"]["reply_metadata"] == {"kind": "staff", "staff_name": "Sam"}
    # The first reply starts human mode, and the patient is told once.
    [joined] = bot_events(rasa, "human")
    assert "Sam from our team is now replying" in joined["text"]
    # The slot goes with every reply (a new Rasa session would have reset it).
    assert slots(rasa) == [("human_mode", True), ("human_mode", True)]
    post(client, case, "reply", reply="A second message.")
    assert slots(rasa)[-1] == ("human_mode", True)
    assert len(bot_events(rasa, "human")) == 1 and len(bot_events(rasa, "staff")) == 2
    # Audited, without the words.
    entries = audit(settings, "reply")
    assert [e.detail for e in entries] == [{"length": len(REPLY.strip())}, {"length": 17}]
    assert all("Hello" not in str(e.detail) for e in entries)


@pytest.mark.parametrize("reply", ["", "   ", "x" * 2001])
def test_an_empty_or_too_long_reply_is_refused(client, case, rasa, reply):
    login(client, "sam.lee")
    post(client, case, "claim")
    page = post(client, case, "reply", reply=reply).get_data(as_text=True)
    assert "cannot be empty" in page or "at most 2000" in page
    assert rasa.events_by_sender == {}


def test_when_rasa_is_down_staff_are_told_nothing_was_sent(client, case, rasa, settings):
    login(client, "sam.lee")
    post(client, case, "claim")
    rasa.down = True
    page = post(client, case, "reply", reply=REPLY).get_data(as_text=True)
    assert "nothing was sent to the patient" in page
    assert audit(settings, "reply") == []
    with session_scope(settings.database_url) as session:
        assert session.get(Escalation, case).human_mode_since is None


def test_claiming_a_reply_here_case_starts_human_mode_and_hand_back_ends_it(
    client, case, rasa, settings
):
    record_contact(settings.database_url, case, ContactDetails("chat"))
    login(client, "sam.lee")
    page = post(client, case, "claim").get_data(as_text=True)
    assert slots(rasa) == [("human_mode", True)]
    assert "the assistant stays quiet, except for emergencies" in page
    assert "Hand back to the assistant" in page
    page = post(client, case, "hand-back").get_data(as_text=True)
    assert "The assistant answers the patient again." in page
    assert slots(rasa) == [("human_mode", True), ("human_mode", False)]
    assert "You're talking to the assistant again" in bot_events(rasa, "human")[-1]["text"]
    with session_scope(settings.database_url) as session:
        assert session.get(Escalation, case).human_mode_since is None


def test_resolving_ends_human_mode(client, case, rasa):
    login(client, "sam.lee")
    post(client, case, "claim")
    post(client, case, "reply", reply="Hello")
    post(client, case, "resolve", outcome="answered_by_message")
    assert slots(rasa)[-1] == ("human_mode", False)


def test_the_live_transcript_shows_new_patient_messages(client, case, rasa):
    login(client, "sam.lee")
    data = client.get(f"/staff/escalations/{case}/transcript.json").json
    assert data["human_mode"] is False
    assert [t["text"] for t in data["turns"]] == ["is my rash from the injections?"]


def test_contact_details_are_shown_on_the_case_and_in_the_queue(client, case, settings):
    details = ContactDetails("phone", name="Jane Doe", phone="+1 212-555-2368")
    record_contact(settings.database_url, case, details)
    login(client, "sam.lee")
    page = client.get(f"/staff/escalations/{case}").get_data(as_text=True)
    assert "call back" in page and "Jane Doe" in page and 'href="tel:+1212-555-2368"' in page
    [row] = client.get("/staff/queue.json").json["escalations"]
    assert row["contact"] == "call back: Jane Doe, +1 212-555-2368"
    assert "+1 212-555-2368" in client.get("/staff/").get_data(as_text=True)


def test_contact_details_need_a_login(app, case, settings):
    record_contact(settings.database_url, case, ContactDetails("email", "Jane", email="j@x.org"))
    anonymous = app.test_client()
    for path in (f"/staff/escalations/{case}", "/staff/queue.json", "/staff/"):
        response = anonymous.get(path)
        assert response.status_code in (302, 401) and "j@x.org" not in response.get_data(True)


def test_pressed_buttons_show_as_their_titles_and_the_opening_greet_is_left_out(
    client, settings
):
    from bot.cases.escalations import EscalationRequest, write_escalation

    escalation_id = write_escalation(
        settings.database_url,
        EscalationRequest(
            "web-xyz:1",
            "web-xyz",
            "clinical",
            "normal",
            transcript=[
                {"who": "patient", "text": "/greet"},
                {"who": "patient", "text": "is my rash from the injections?"},
                {"who": "patient", "text": '/choose_contact{"contact_method":"chat"}'},
            ],
        ),
    )
    login(client, "sam.lee")
    turns = client.get(f"/staff/escalations/{escalation_id}/transcript.json").json["turns"]
    assert [t["text"] for t in turns] == [
        "is my rash from the injections?",
        "[pressed] Reply here in the chat",
    ]
