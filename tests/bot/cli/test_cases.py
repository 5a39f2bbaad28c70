"""``bot staff`` and ``bot escalations``: accounts and the urgent-first list, via CliRunner."""

from __future__ import annotations

from sqlalchemy import select

from bot.cases.accounts import authenticate
from bot.cases.escalations import EscalationRequest, EscalationWriter, write_escalation
from bot.db.models import AuditEntry, Escalation
from bot.db.session import session_scope

PASSWORD = "correct horse battery staple"


def _request(key: str, priority: str) -> EscalationRequest:
    return EscalationRequest(
        dedup_key=key, conversation_id=f"web-{key}", reason="clinical", priority=priority,
        transcript=[{"who": "patient", "text": "my secret symptom"}],
    )  # fmt: skip


def test_create_user_makes_an_account_that_can_sign_in_and_audits_it(invoke, cli_settings):
    result = invoke("staff", "create-user", "Sam", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    assert "created staff account sam" in result.output
    with session_scope(cli_settings.database_url) as session:
        assert authenticate(session, "sam", PASSWORD).user is not None
        actions = session.scalars(select(AuditEntry.action)).all()
        assert "user_create" in actions


def test_create_user_prompts_twice_and_refuses_a_weak_password(invoke):
    prompted = invoke("staff", "create-user", "ada", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert prompted.exit_code == 0, prompted.output
    weak = invoke("staff", "create-user", "bob", "--password", "short")
    assert weak.exit_code == 1 and "Error" in weak.output


def test_set_password_changes_it(invoke, cli_settings):
    invoke("staff", "create-user", "sam", "--password", PASSWORD)
    new = "another long passphrase here"
    result = invoke("staff", "set-password", "sam", "--password", new)
    assert result.exit_code == 0, result.output
    with session_scope(cli_settings.database_url) as session:
        assert authenticate(session, "sam", new).user is not None
        assert authenticate(session, "sam", PASSWORD).user is None
    unknown = invoke("staff", "set-password", "nobody", "--password", new)
    assert unknown.exit_code == 1


def test_escalations_list_is_urgent_first_and_prints_no_patient_text(
    invoke, cli_settings, loaded_database
):
    write_escalation(loaded_database, _request("a", "normal"))
    write_escalation(loaded_database, _request("b", "urgent"))
    result = invoke("escalations", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "urgent" in lines[0] and "normal" in lines[1]
    assert lines[-1] == "2 open"
    assert "secret" not in result.output


def test_escalations_flush_writes_the_spool_and_fails_while_it_cannot(
    invoke, cli_settings, loaded_database, tmp_path
):
    writer = EscalationWriter(loaded_database, cli_settings.spool_dir)
    assert writer._spool(_request("c", "urgent"), start_retry=False)
    result = invoke("escalations", "flush")
    assert result.exit_code == 0 and "0 still waiting" in result.output
    with session_scope(loaded_database) as session:
        assert session.scalars(select(Escalation.dedup_key)).all() == ["c"]
    assert writer.pending() == []
