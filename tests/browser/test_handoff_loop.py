"""The handoff loop in real browsers: a patient's widget and a staff member's console, each in
its own browser profile (own cookies), against real Rasa, action and web servers.

1. "Reply here in the chat": staff claim the case, reply from the console, the reply appears in
   the patient's open widget without a reload (as text, labelled as the clinic team's), the
   assistant stays quiet in human mode but still answers an emergency at once, and answers
   again once staff hand the conversation back.
2. "Call me back": the number the patient typed is normalised on the case, and the retention
   purge removes it from the escalations table and from the console.

Waits are explicit (``expect``); the only sleep checks that no bot reply comes.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select, text, update

from bot.cases.accounts import create_user
from bot.cases.retention import purge
from bot.db.models import STATUS_RESOLVED, Escalation
from bot.db.session import session_scope
from tests.browser.test_widget import (
    CLINIC,
    TEXTS,
    TIMEOUT_MS,
    ask,
    bot_messages,
    launcher,
    open_chat,
    panel,
    patient_messages,
    wait_until_answered,
)
from tests.integration.test_end_to_end import wait_for_escalations

pytestmark = pytest.mark.slow

STAFF_USER = "sam.lee"
STAFF_FIRST_NAME = "Sam"  # what patients see of "sam.lee"
STAFF_PASSWORD = "correct-horse-battery"
CLINICAL = "I take topiramate every day, is botox safe with that?"
CONTACT_CHOICES = ["Reply here in the chat", "Call me back", "Email me", "No thanks, I'll call"]
STAFF_REPLY = "<b>Hi</b>, this is Sam. <img src=x onerror=alert(1)>"
ORDINARY = "how long does a session take?"
RED_FLAG = "my throat is swelling and I can't breathe"
FAQ = "how long does the injection take"
NAME, TYPED_NUMBER, NUMBER = "Jane Doe", "(212) 555-2368", "+1 212-555-2368"
# Both pages poll every 3 s; the machine is slow and shared.
POLL_TIMEOUT_MS = 15_000
QUIET_S = 4  # how long the assistant must stay quiet in human mode


# ----------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def staff_user(servers) -> str:
    with session_scope(servers.settings.database_url) as session:
        create_user(session, STAFF_USER, STAFF_PASSWORD, "staff")
    return STAFF_USER


@pytest.fixture
def staff_context(browser):
    """A second browser profile: the staff member's cookies, not the patient's."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    yield context
    context.close()


@pytest.fixture
def staff_page(staff_context: BrowserContext, servers, staff_user: str):
    """The staff console, logged in as sam.lee (on the queue)."""
    page = staff_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(servers.web_url + "/staff/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill(staff_user)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("queue")).to_be_visible()
    yield page
    assert errors == [], f"errors in the staff page: {errors}"


# ------------------------------------------------------------------------------------ helpers


def hand_off(page: Page, choice: str) -> int:
    """The patient asks a personal clinical question and picks how to hear back; returns the
    escalation's id (from the conversation's history, as the widget reads it)."""
    open_chat(page)
    ask(page, CLINICAL)
    expect(bot_messages(page, "handoff")).to_have_count(1, timeout=TIMEOUT_MS)
    question = bot_messages(page, "contact").last
    expect(question).to_contain_text("How would you like to hear back from us?")
    buttons = question.get_by_role("group", name=TEXTS["quick_replies"]).get_by_role("button")
    expect(buttons).to_have_text(CONTACT_CHOICES)
    question.get_by_role("button", name=choice, exact=True).click()
    expect(patient_messages(page).last).to_contain_text(choice)
    wait_until_answered(page)
    history = page.evaluate(
        "() => fetch('/api/history', {headers: {Accept: 'application/json'}}).then(r => r.json())"
    )
    ids = {
        turn["metadata"]["escalation_id"]
        for turn in history["messages"]
        if turn.get("who") == "bot" and (turn.get("metadata") or {}).get("escalation_id")
    }
    assert len(ids) == 1, f"expected one escalation in the conversation, got {ids}"
    return ids.pop()


def queue_row(staff: Page, escalation_id: int):
    link = staff.get_by_role("link", name=f"#{escalation_id}", exact=True)
    return staff.get_by_test_id("queue").locator("tbody tr", has=link)


def open_case(staff: Page, escalation_id: int) -> None:
    queue_row(staff, escalation_id).get_by_role("link", name=f"#{escalation_id}").click()
    expect(
        staff.get_by_role("heading", name=re.compile(rf"^Escalation #{escalation_id}\b"))
    ).to_be_visible()


def mark_not_reloaded(page: Page) -> None:
    page.evaluate("window.__notReloaded = true")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.__notReloaded") is True, "the page was reloaded"


def escalation_rows_mentioning(database_url: str, *needles: str) -> set[int]:
    """Ids of escalations with any column (text, JSON, ...) that contains one of ``needles``."""
    found = set()
    with session_scope(database_url) as session:
        result = session.execute(text("SELECT * FROM escalations"))
        columns = list(result.keys())
        for row in result.all():
            values = dict(zip(columns, row, strict=True))
            if any(n in str(v) for v in values.values() if v is not None for n in needles):
                found.add(values["id"])
    return found


# -------------------------------------------------------------------------------------- tests


def test_whole_loop_patient_reply_here_staff_reply_human_mode_and_safety(
    servers, page: Page, staff_page: Page, artifacts
):
    patient, staff = page, staff_page
    escalation_id = hand_off(patient, "Reply here in the chat")
    expect(bot_messages(patient, "contact").last).to_contain_text("reply here in this chat")

    # Staff: the case is in the queue, marked "reply in chat"; claiming it starts human mode.
    staff.reload()  # rather than wait for the queue's 10 s poll
    row = queue_row(staff, escalation_id)
    expect(row).to_be_visible()
    expect(row).to_contain_text("reply in chat")
    open_case(staff, escalation_id)
    expect(staff.get_by_test_id("contact-method")).to_have_text("a reply here in the chat")
    expect(staff.get_by_test_id("human-mode")).to_contain_text("no: the assistant answers")
    staff.get_by_role("button", name="Claim").click()
    expect(staff.get_by_role("status")).to_contain_text("Claimed")
    expect(staff.get_by_test_id("human-mode")).to_contain_text("yes, since")

    # The patient's open widget hears of it without a reload.
    mark_not_reloaded(patient)
    joined = bot_messages(patient, "human")
    expect(joined).to_have_count(1, timeout=POLL_TIMEOUT_MS)
    expect(joined).to_contain_text(f"{STAFF_FIRST_NAME} from our team is now replying to you here")

    # A staff reply with markup in it.
    staff.get_by_label("Reply to the patient", exact=True).fill(STAFF_REPLY)
    staff.get_by_role("button", name="Send reply").click()
    expect(staff.get_by_role("status")).to_contain_text("Reply sent to the patient")
    mark_not_reloaded(staff)

    from_staff = bot_messages(patient, "staff")
    expect(from_staff).to_have_count(1, timeout=POLL_TIMEOUT_MS)
    assert_not_reloaded(patient)

    def check_staff_reply() -> None:
        message = bot_messages(patient, "staff")
        expect(message).to_have_count(1)
        expect(message.locator(".cw-from-staff")).to_have_text(
            TEXTS["staff_said"].format(name=STAFF_FIRST_NAME)
        )
        expect(message.locator(".cw-from-staff")).to_have_text(
            f"From the clinic team · {STAFF_FIRST_NAME}"
        )
        expect(message.locator(".cw-text")).to_have_text(STAFF_REPLY)  # shown literally
        expect(message.locator("b, img")).to_have_count(0)
        expect(patient.locator("img[src='x']")).to_have_count(0)
        # (the page fixture fails the test on any dialog, e.g. an alert(1) that ran)

    check_staff_reply()
    from_staff.scroll_into_view_if_needed()
    patient.screenshot(path=str(artifacts / "handoff-loop-widget.png"))

    # Still there after a reload.
    patient.reload()
    if not panel(patient).is_visible():
        launcher(patient).click()
    expect(panel(patient)).to_be_visible()
    expect(bot_messages(patient, "staff")).to_have_count(1, timeout=TIMEOUT_MS)
    check_staff_reply()

    # Human mode: an ordinary question gets no answer from the assistant ...
    expect(patient_messages(patient).last).to_have_attribute("data-status", "sent")
    bot_count = bot_messages(patient).count()
    ask(patient, ORDINARY)
    wait_until_answered(patient)
    patient.wait_for_timeout(QUIET_S * 1000)
    expect(bot_messages(patient)).to_have_count(bot_count)
    expect(bot_messages(patient, "answer")).to_have_count(0)
    expect(patient_messages(patient).last).to_contain_text(ORDINARY)

    # ... and it shows on the staff member's open case page without a reload.
    transcript = staff.get_by_test_id("transcript")
    expect(transcript).to_contain_text(ORDINARY, timeout=POLL_TIMEOUT_MS)
    assert_not_reloaded(staff)

    # An emergency still gets the urgent reply at once, with the pinned alert.
    ask(patient, RED_FLAG)
    expect(bot_messages(patient, "urgent")).to_have_count(1, timeout=TIMEOUT_MS)
    alert = patient.get_by_role("alert")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(CLINIC["emergency_number"])
    with session_scope(servers.settings.database_url) as session:
        conversation = session.get(Escalation, escalation_id).conversation_id
    escalations = wait_for_escalations(servers, conversation, count=2)
    assert "urgent" in {e.priority for e in escalations}, "the emergency reached no one"
    expect(transcript).to_contain_text(RED_FLAG, timeout=POLL_TIMEOUT_MS)
    expect(transcript).to_contain_text(STAFF_REPLY)  # the staff reply, as text, on the console
    staff.screenshot(path=str(artifacts / "handoff-loop-staff.png"), full_page=True)

    # Handed back: the assistant answers again.
    staff.get_by_role("button", name="Hand back to the assistant").click()
    expect(staff.get_by_role("status")).to_contain_text("The assistant answers the patient again")
    expect(staff.get_by_test_id("human-mode")).to_contain_text("no: the assistant answers")
    expect(staff.get_by_role("button", name="Hand back to the assistant")).to_have_count(0)
    expect(bot_messages(patient, "human").last).to_contain_text(
        "You're talking to the assistant again", timeout=POLL_TIMEOUT_MS
    )
    ask(patient, FAQ)
    answer = bot_messages(patient, "answer")
    expect(answer).to_have_count(1, timeout=TIMEOUT_MS)
    expect(answer).to_contain_text("15 minutes")


def test_call_back_number_is_normalised_on_the_case_and_removed_by_the_purge(
    servers, page: Page, staff_page: Page
):
    patient, staff = page, staff_page
    database_url = servers.settings.database_url
    # Other tests on the same servers (tests/integration) may have kept the same number.
    already_there = escalation_rows_mentioning(database_url, NUMBER, NAME)

    escalation_id = hand_off(patient, "Call me back")
    expect(bot_messages(patient).last).to_contain_text("What name should we use for you?")
    ask(patient, NAME)
    expect(bot_messages(patient).last).to_contain_text(
        "What phone number should we call? Please include the area code.", timeout=TIMEOUT_MS
    )
    ask(patient, TYPED_NUMBER)
    consent = bot_messages(patient).last
    expect(consent).to_contain_text(
        f"May we contact you at {NUMBER} about this question?", timeout=TIMEOUT_MS
    )
    consent_buttons = consent.get_by_role("group", name=TEXTS["quick_replies"]).get_by_role(
        "button"
    )
    expect(consent_buttons).to_have_text(["Yes", "No"])
    consent.get_by_role("button", name="Yes", exact=True).click()
    expect(bot_messages(patient).last).to_contain_text(
        f"Thank you, {NAME}. Someone from our team will reach you at {NUMBER}",
        timeout=TIMEOUT_MS,
    )

    # The queue and the case show the normalised number.
    staff.reload()  # the queue's own poll redraws every 10 s; a fresh page is quicker
    row = queue_row(staff, escalation_id)
    expect(row.get_by_test_id("contact")).to_have_text(f"call back: {NAME}, {NUMBER}")
    open_case(staff, escalation_id)
    expect(staff.get_by_test_id("contact-method")).to_have_text("call back")
    expect(staff.get_by_test_id("contact-name")).to_have_text(NAME)
    phone = staff.get_by_test_id("contact-phone")
    expect(phone).to_have_text(NUMBER)
    expect(phone.get_by_role("link", name=NUMBER)).to_have_attribute(
        "href", "tel:" + NUMBER.replace(" ", "")
    )

    # A year and more later, resolved: the purge takes the contact details away.
    old = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(days=400)
    with session_scope(database_url) as session:
        session.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id)
            .values(status=STATUS_RESOLVED, created_at=old, resolved_at=old)
        )
    counts = purge(database_url, 365)
    assert counts["escalations_deleted"] + counts["escalations_scrubbed"] >= 1, counts

    with session_scope(database_url) as session:
        left = session.execute(
            select(
                Escalation.contact_name,
                Escalation.contact_phone,
                Escalation.contact_email,
                Escalation.transcript,
            ).where(Escalation.id == escalation_id)
        ).one_or_none()
    if left is not None:  # scrubbed (the audit log refers to it), not deleted
        assert (left.contact_name, left.contact_phone, left.contact_email) == (None, None, None)
        assert left.transcript == []
    mentioning = escalation_rows_mentioning(database_url, NUMBER, "555-2368", "5552368", NAME)
    assert escalation_id not in mentioning
    assert mentioning <= already_there, "the number is still in the escalations table"

    staff.reload()
    if left is None:
        expect(staff.get_by_role("heading", name=re.compile("Not Found", re.I))).to_be_visible()
    else:
        expect(staff.get_by_test_id("status")).to_contain_text("resolved")
        expect(staff.get_by_test_id("contact-phone")).to_have_count(0)
    body = staff.locator("body")
    expect(body).not_to_contain_text("555-2368")
    expect(body).not_to_contain_text(NAME)
