"""``bot content check``: the answers against the guide, and what no clinician has signed."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli import main
from bot.safety.spec import load_spec


def test_content_check_lists_unsigned_red_flag_categories():
    result = CliRunner().invoke(main, ["content", "check"])
    assert result.exit_code == 0, result.output
    unsigned = load_spec().unsigned()
    assert unsigned, "every category still carries the placeholder reviewer"
    line = next(x for x in result.output.splitlines() if "red-flag categories" in x)
    for name in unsigned:
        assert name in line


def test_a_signed_category_is_not_listed(tmp_path):
    import shutil

    from bot.config import PROJECT_ROOT

    copy = tmp_path / "safety"
    shutil.copytree(PROJECT_ROOT / "data" / "safety", copy)
    path = copy / "categories" / "seizure.yml"
    text = path.read_text().replace(
        "review: {reviewer: PLACEHOLDER clinical reviewer, reviewed_on: null}",
        "review: {reviewer: Dr A. Example, reviewed_on: 2026-11-28}",
    )
    path.write_text(text)
    unsigned = load_spec(copy).unsigned()
    assert "seizure" not in unsigned and "stroke_signs" in unsigned


def test_content_check_fails_on_a_page_quote_not_in_the_guide(tmp_path, monkeypatch):
    import shutil

    from bot.config import PROJECT_ROOT

    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "data" / "content", content)
    widget = content / "widget.yml"
    text = widget.read_text(encoding="utf-8")
    anchor = "    quotes:\n    - "
    assert anchor in text, "the page has guide quotes to check"
    widget.write_text(
        text.replace(anchor, anchor + "words the guide never says\n    - ", 1), encoding="utf-8"
    )
    monkeypatch.setenv("CLINIC_CONTENT_DIR", str(content))
    result = CliRunner().invoke(main, ["content", "check"])
    assert result.exit_code == 1
    assert "words the guide never says" in result.output


def _content_copy(tmp_path):
    import shutil

    from bot.config import PROJECT_ROOT

    content = tmp_path / "content"
    shutil.copytree(PROJECT_ROOT / "data" / "content", content)
    return content


def test_unsigned_answers_warn_in_development_and_fail_in_production(monkeypatch):
    from bot.config import PROJECT_ROOT
    from bot.content.answers import load_answer_specs, unsigned_answers

    unsigned = unsigned_answers(load_answer_specs(PROJECT_ROOT / "data/content/answers.yml"))
    assert unsigned, "the answers still carry the placeholder reviewer"
    monkeypatch.delenv("CLINIC_ENV", raising=False)
    development = CliRunner().invoke(main, ["content", "check"])
    assert development.exit_code == 0
    assert "warning: answers no clinical reviewer has signed" in development.output
    monkeypatch.setenv("CLINIC_ENV", "production")
    production = CliRunner().invoke(main, ["content", "check"])
    assert production.exit_code == 1
    assert "error: answers no clinical reviewer has signed" in production.output
    assert "error: clinic.yml still has placeholder values" in production.output


def test_signing_adds_a_version_with_the_name_and_date_and_audits_it(tmp_path, monkeypatch):
    import datetime as dt

    from sqlalchemy import select

    from bot.config import load_settings
    from bot.content.answers import APPROVED, load_answer_specs
    from bot.db.models import AuditEntry
    from bot.db.session import session_scope

    content = _content_copy(tmp_path)
    monkeypatch.setenv("CLINIC_CONTENT_DIR", str(content))
    monkeypatch.setenv("CLINIC_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("CLINIC_DATABASE_URL", raising=False)
    before = {s.answer_id: s for s in load_answer_specs(content / "answers.yml")
              if s.status == APPROVED}  # fmt: skip
    command = ["content", "sign", "procedure", "--reviewer", "Dr A. Example"]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 0, result.output
    specs = load_answer_specs(content / "answers.yml")
    approved = [s for s in specs if s.answer_id == "procedure" and s.status == APPROVED]
    assert len(approved) == 1
    signed = approved[0]
    assert signed.version == before["procedure"].version + 1
    assert signed.reviewer == "Dr A. Example" and signed.reviewed_on == dt.date.today()
    assert (signed.text, signed.quotes) == (before["procedure"].text, before["procedure"].quotes)
    assert "# Vetted patient-facing answers" in (content / "answers.yml").read_text()
    with session_scope(load_settings().database_url) as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "sign_answer")).one()
        assert entry.detail["answer_id"] == "procedure"
        assert entry.detail["reviewer"] == "Dr A. Example"
    check = CliRunner().invoke(main, ["content", "check"])
    assert "procedure" not in next(
        line for line in check.output.splitlines() if "answers no clinical reviewer" in line
    )


def test_a_placeholder_or_empty_name_cannot_sign(tmp_path, monkeypatch):
    content = _content_copy(tmp_path)
    monkeypatch.setenv("CLINIC_CONTENT_DIR", str(content))
    before = (content / "answers.yml").read_text()
    for name in ("PLACEHOLDER clinical reviewer", "  "):
        result = CliRunner().invoke(main, ["content", "sign", "procedure", "--reviewer", name])
        assert result.exit_code != 0 and "real name" in result.output
    unknown = CliRunner().invoke(main, ["content", "sign", "no-such", "--reviewer", "Dr B"])
    assert unknown.exit_code != 0 and "no approved answer" in unknown.output
    assert (content / "answers.yml").read_text() == before
