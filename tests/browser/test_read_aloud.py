"""What a screen reader reads, in Chromium's accessibility tree: the answer, then its source,
then what to do; the urgent alert before the conversation; no false "reviewed by"."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from bot.content.answers import APPROVED, load_answer_specs
from bot.content.messages import Messages
from tests.browser.test_widget import (
    CLINIC,
    CONTENT_DIR,
    TIMEOUT_MS,
    ask,
    bot_messages,
    open_chat,
    panel,
    wait_until_answered,
)

pytestmark = pytest.mark.slow

MESSAGES = Messages.load(CONTENT_DIR)
RISKS = next(
    s
    for s in load_answer_specs(CONTENT_DIR / "answers.yml")
    if s.intent == "ask_serious_risks" and s.status == APPROVED
)


def _position(snapshot: str, text: str) -> int:
    where = snapshot.find(text)
    assert where >= 0, f"{text!r} is not read out:\n{snapshot}"
    return where


def test_answer_source_and_what_to_do_are_read_in_order(page: Page):
    open_chat(page)
    ask(page, "what are the serious risks of botox?")
    wait_until_answered(page)
    expect(bot_messages(page, "answer")).to_have_count(1, timeout=TIMEOUT_MS)

    log = page.get_by_role("log")
    snapshot = log.aria_snapshot()
    answer = _position(snapshot, RISKS.text.split(". ")[0])
    source = _position(snapshot, "From our patient guide")
    what_to_do = _position(snapshot, MESSAGES.text("risk_what_to_do").split(" now")[0])
    button = _position(snapshot, 'button "I have these symptoms now"')
    assert answer < source < what_to_do < button
    assert "Reviewed" not in snapshot and "PLACEHOLDER" not in snapshot
    # The conversation is a polite live region: new replies are read without stealing focus.
    expect(log).to_have_attribute("aria-live", "polite")


def test_the_urgent_alert_is_read_first_with_the_number_to_call(page: Page):
    number = CLINIC["emergency_number"]
    open_chat(page)
    ask(page, "my husband had his injections this morning and now he can't swallow or breathe")
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible(timeout=TIMEOUT_MS)
    expect(alert).to_contain_text(number)

    snapshot = panel(page).aria_snapshot()
    assert _position(snapshot, "- alert") < _position(snapshot, "- log")
    assert number in alert.aria_snapshot()
    expect(alert.get_by_role("link")).to_have_accessible_name(f"Call {number}")
