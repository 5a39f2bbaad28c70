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
