"""The staff console with Flask's test client on a temporary database: access control,
CSRF, lockout, idle timeout, the case workflow and the audit log."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from bot.cases.accounts import create_user
from bot.cases.escalations import EscalationRequest, write_escalation
from bot.db.models import AuditEntry, Escalation, StaffUser
from bot.db.session import session_scope
from bot.web import create_app

PASSWORD = "correct-horse-battery"


@pytest.fixture
def app(settings, loaded_database):
    with session_scope(settings.database_url) as session:
        create_user(session, "sam", PASSWORD, "staff")
        create_user(session, "ada", PASSWORD, "admin")
    return create_app({"TESTING": True, "SETTINGS": settings, "RASA_CLIENT": object()})


@pytest.fixture
def urgent(settings) -> int:
    return write_escalation(
        settings.database_url,
        EscalationRequest(
            dedup_key=uuid.uuid4().hex,
            conversation_id="web-abc",
            reason="urgent",
            priority="urgent",
            matched_rule="trouble swallowing",
            transcript=[
                {
                    "who": "patient",
                    "text": "i can't swallow, call me on 0161 496 0000",
                    "intent": "report_urgent_symptoms",
                    "confidence": 1.0,
                    "timestamp": 1.0,
                },
                {"who": "bot", "text": "Please call 911 now.", "kind": "urgent", "timestamp": 2.0},
            ],
        ),
    )


@pytest.fixture
def normal(settings) -> int:
    return write_escalation(
        settings.database_url,
        EscalationRequest(
            dedup_key=uuid.uuid4().hex,
            conversation_id="web-def",
            reason="admin",
            priority="normal",
            transcript=[{"who": "patient", "text": "how much is it"}],
        ),
    )


def csrf(client, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username="sam", password=PASSWORD):
    token = csrf(client, "/staff/login")
    return client.post(
        "/staff/login", data={"username": username, "password": password, "csrf_token": token}
    )


def audit_actions(settings) -> list[tuple[str | None, str, int | None]]:
    with session_scope(settings.database_url) as session:
        return [
            (a.username, a.action, a.escalation_id)
            for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


STAFF_ROUTES = [
    ("GET", "/staff/"),
    ("GET", "/staff/queue.json"),
    ("GET", "/staff/escalations/1"),
    ("POST", "/staff/escalations/1/claim"),
    ("POST", "/staff/escalations/1/note"),
    ("POST", "/staff/escalations/1/resolve"),
    ("POST", "/staff/escalations/1/reopen"),
    ("POST", "/staff/escalations/1/flag"),
    ("POST", "/staff/escalations/1/reply"),
    ("POST", "/staff/escalations/1/hand-back"),
    ("GET", "/staff/escalations/1/transcript.json"),
    ("GET", "/staff/inbox"),
    ("POST", "/staff/inbox/1"),
    ("GET", "/staff/overview"),
    ("GET", "/staff/audit"),
    ("GET", "/staff/users"),
    ("POST", "/staff/users/1"),
    ("POST", "/staff/logout"),
]


@pytest.mark.parametrize(("method", "path"), STAFF_ROUTES)
def test_every_staff_route_refuses_an_anonymous_request(app, method, path):
    app.config["WTF_CSRF_ENABLED"] = False  # so the refusal comes from the login check
    response = app.test_client().open(path, method=method)
    assert response.status_code in (302, 401)
    if response.status_code == 302:
        assert "/staff/login" in response.headers["Location"]


def test_every_staff_route_is_listed_above(app):
    rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/staff")}
    listed = {re.sub(r"/1(/|$)", r"/<int:x>\1", p) for _, p in STAFF_ROUTES}
    normalised = {re.sub(r"<int:\w+>", "<int:x>", r) for r in rules} - {"/staff/login"}
    assert normalised == listed


@pytest.mark.parametrize("path", ["/staff/audit", "/staff/users", "/staff/inbox"])
def test_staff_role_cannot_reach_admin_pages(client, path):
    login(client)
    assert client.get(path).status_code == 403


def test_admin_reaches_admin_pages(client):
    login(client, "ada")
    assert client.get("/staff/audit").status_code == 200
    assert client.get("/staff/users").status_code == 200


def test_form_post_without_csrf_token_is_refused(client, urgent, settings):
    login(client)
    response = client.post(f"/staff/escalations/{urgent}/claim", data={})
    assert response.status_code == 400
    with session_scope(settings.database_url) as session:
        assert session.get(Escalation, urgent).status == "open"


def test_login_without_csrf_token_is_refused(client):
    response = client.post("/staff/login", data={"username": "sam", "password": PASSWORD})
    assert response.status_code == 400


def test_wrong_password_then_lockout(client, settings):
    for _ in range(4):
        assert login(client, password="wrong-password-123").status_code == 401
    response = login(client, password="wrong-password-123")
    assert "locked" in response.get_data(as_text=True)
    # even the right password is refused while locked
    response = login(client)
    assert response.status_code == 401 and "locked" in response.get_data(as_text=True)
    assert [a for a in audit_actions(settings) if a[1] == "login_failed"]


def test_unknown_user_and_wrong_password_look_the_same(client):
    unknown = login(client, "nobody", PASSWORD).get_data(as_text=True)
    wrong = login(client, "sam", "wrong-password-123").get_data(as_text=True)
    assert "Wrong username or password." in unknown and "Wrong username or password." in wrong


def test_idle_session_is_logged_out(app, client):
    login(client)
    assert client.get("/staff/").status_code == 200
    app.config["STAFF_IDLE_TIMEOUT_S"] = -1
    response = client.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_logout(client):
    login(client)
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    assert client.get("/staff/").status_code == 302


def test_queue_lists_urgent_first_and_counts_open_urgent(client, normal, urgent):
    login(client)
    page = client.get("/staff/").get_data(as_text=True)
    assert page.index(f"#{urgent}<") < page.index(f"#{normal}<")
    data = client.get("/staff/queue.json").json
    assert [e["id"] for e in data["escalations"]] == [urgent, normal]
    assert data["urgent_open"] == 1


def test_queue_filters(client, normal, urgent):
    login(client)
    ids = lambda q: [e["id"] for e in client.get("/staff/queue.json?" + q).json["escalations"]]  # noqa: E731
    assert ids("priority=normal") == [normal]
    assert ids("reason=urgent") == [urgent]
    assert ids("status=resolved") == []
    assert ids("since=2000-01-01&until=2000-01-02") == []
    assert ids("priority=nonsense") == [urgent, normal]  # unknown values are ignored


def test_language_escalations_can_be_filtered_and_show_the_language(client, settings):
    language = write_escalation(
        settings.database_url,
        EscalationRequest(
            dedup_key=uuid.uuid4().hex,
            conversation_id="web-lang",
            reason="language",
            priority="normal",
            matched_rule="language de",
            transcript=[
                {"who": "patient", "text": "Wie lange dauert es?", "intent": "other_language",
                 "safety": {"fired": True, "rule": "language de", "source": "language",
                            "language": "de"}, "timestamp": 1.0},
            ],  # fmt: skip
        ),
    )
    login(client)
    ids = [e["id"] for e in client.get("/staff/queue.json?reason=language").json["escalations"]]
    assert ids == [language]
    page = client.get(f"/staff/escalations/{language}").get_data(as_text=True)
    assert "language de, by language" in page


def test_case_workflow_and_audit_trail(client, urgent, settings):
    login(client)
    page = client.get(f"/staff/escalations/{urgent}").get_data(as_text=True)
    assert "i can&#39;t swallow" in page and "report_urgent_symptoms" in page
    assert "0161 496 0000" in page  # contact details the patient gave
    token = csrf(client, f"/staff/escalations/{urgent}")
    client.post(f"/staff/escalations/{urgent}/claim", data={"csrf_token": token})
    client.post(
        f"/staff/escalations/{urgent}/note",
        data={"csrf_token": token, "note": "Called 999 with patient."},
    )
    client.post(
        f"/staff/escalations/{urgent}/resolve",
        data={"csrf_token": token, "outcome": "referred_to_emergency"},
    )
    with session_scope(settings.database_url) as session:
        row = session.get(Escalation, urgent)
        assert (row.status, row.outcome, row.claimed_by.username) == (
            "resolved",
            "referred_to_emergency",
            "sam",
        )
        assert [n.text for n in row.notes] == ["Called 999 with patient."]
    client.post(f"/staff/escalations/{urgent}/reopen", data={"csrf_token": token})
    actions = [a for a in audit_actions(settings) if a[2] == urgent]
    assert [a[1] for a in actions] == ["view", "view", "claim", "note", "resolve", "reopen"]
    assert {a[0] for a in actions} == {"sam"}


def test_resolve_needs_an_outcome(client, urgent, settings):
    login(client)
    token = csrf(client, f"/staff/escalations/{urgent}")
    response = client.post(
        f"/staff/escalations/{urgent}/resolve",
        data={"csrf_token": token, "outcome": "x"},
        follow_redirects=True,
    )
    assert "choose an outcome" in response.get_data(as_text=True)
    with session_scope(settings.database_url) as session:
        assert session.get(Escalation, urgent).status == "open"


def test_note_with_script_and_sql_is_stored_and_shown_inert(client, urgent, settings):
    login(client)
    note = "<script>alert('x')</script>'); DROP TABLE escalations; --"
    token = csrf(client, f"/staff/escalations/{urgent}")
    client.post(f"/staff/escalations/{urgent}/note", data={"csrf_token": token, "note": note})
    page = client.get(f"/staff/escalations/{urgent}").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    with session_scope(settings.database_url) as session:
        assert session.get(Escalation, urgent).notes[0].text == note  # stored exactly
        assert session.execute(text("select count(*) from escalations")).scalar() == 1


def test_audit_log_is_append_only_in_the_database(client, settings):
    login(client)
    with session_scope(settings.database_url) as session:
        assert session.scalars(select(AuditEntry)).first() is not None
    with pytest.raises(DatabaseError), session_scope(settings.database_url) as session:
        session.execute(text("update audit_log set action = 'nothing'"))
    with pytest.raises(DatabaseError), session_scope(settings.database_url) as session:
        session.execute(text("delete from audit_log"))
    with pytest.raises(Exception, match="append-only|cannot be changed"):
        with session_scope(settings.database_url) as session:
            entry = session.scalars(select(AuditEntry)).first()
            entry.action = "edited"


def test_admin_sees_the_audit_log_and_can_deactivate_a_user(client, settings, urgent):
    login(client)  # sam views the case
    client.get(f"/staff/escalations/{urgent}")
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    login(client, "ada")
    page = client.get("/staff/audit").get_data(as_text=True)
    assert "sam" in page and "view" in page
    with session_scope(settings.database_url) as session:
        sam = session.scalars(select(StaffUser).where(StaffUser.username == "sam")).one()
    client.post(
        f"/staff/users/{sam.id}",
        data={"csrf_token": csrf(client, "/staff/users"), "role": "staff", "active": "0"},
    )
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    assert login(client).status_code == 401  # deactivated


def test_overview_draws_charts(client, urgent, normal):
    login(client)
    page = client.get("/staff/overview").get_data(as_text=True)
    assert page.count("<svg") == 3
    assert "Escalations by reason" in page and "<rect" in page
    assert "no resolved escalations yet" in page


def test_open_redirect_after_login_is_refused(client):
    token = csrf(client, "/staff/login")
    response = client.post(
        "/staff/login?next=https://evil.example/",
        data={"username": "sam", "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"].endswith("/staff/")


def test_flag_for_training_and_inbox_decisions(client, urgent, settings):
    from bot.db.models import InboxItem, utcnow

    login(client)
    token = csrf(client, f"/staff/escalations/{urgent}")
    client.post(f"/staff/escalations/{urgent}/flag", data={"csrf_token": token})
    with session_scope(settings.database_url) as session:
        assert session.get(Escalation, urgent).flagged_for_training is True
        session.add(
            InboxItem(
                text_key="what is it",
                message="what is it <name>",
                count=2,
                first_seen=utcnow(),
                last_seen=utcnow(),
                sources=["fallback"],
            )
        )
    client.post("/staff/logout", data={"csrf_token": csrf(client, "/staff/")})
    login(client, "ada")
    page = client.get("/staff/inbox").get_data(as_text=True)
    assert "what is it &lt;name&gt;" in page
    token = csrf(client, "/staff/inbox")
    client.post(
        "/staff/inbox/1",
        data={"csrf_token": token, "decision": "intent", "intent": "ask_how_it_works"},
    )
    bad = client.post(
        "/staff/inbox/1",
        data={"csrf_token": token, "decision": "intent", "intent": "no_such_intent"},
        follow_redirects=True,
    )
    assert "unknown intent" in bad.get_data(as_text=True)
    with session_scope(settings.database_url) as session:
        item = session.get(InboxItem, 1)
        assert (item.decision, item.decided_intent, item.decided_by) == (
            "intent",
            "ask_how_it_works",
            "ada",
        )
    assert ("ada", "inbox_decide", None) in audit_actions(settings)
