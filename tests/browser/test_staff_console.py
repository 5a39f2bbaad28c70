"""The staff console in a real browser, on an escalation created by a real conversation."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from bot.cases.accounts import create_user
from bot.db.models import Escalation
from bot.db.session import session_scope
from bot.ops.servers import http_json

pytestmark = pytest.mark.slow

PASSWORD = "browser-test-password"


@pytest.fixture(scope="module")
def staff_login(servers):
    username = f"nurse{uuid.uuid4().hex[:6]}"
    with session_scope(servers.settings.database_url) as session:
        create_user(session, username, PASSWORD, "staff")
    return username


def test_staff_finds_reads_and_resolves_an_urgent_escalation(
    servers, context, staff_login, artifacts
):
    # A patient reports a red-flag symptom over the real REST channel.
    sender = f"browser-{uuid.uuid4().hex[:8]}"
    for text in ("hi", "since my injections this morning my eyelid is drooping badly"):
        status, _ = http_json(
            "POST", f"{servers.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text}
        )
        assert status == 200

    page = context.new_page()
    page.goto(servers.web_url + "/staff/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Username").fill(staff_login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    with session_scope(servers.settings.database_url) as session:
        [escalation_id] = session.scalars(
            select(Escalation.id).where(Escalation.conversation_id == sender)
        ).all()
    queue = page.get_by_test_id("queue")
    expect(queue).to_be_visible()
    ours = queue.locator("tbody tr", has=page.get_by_role("link", name=f"#{escalation_id}"))
    expect(ours).to_contain_text("urgent")
    priorities = queue.locator("tbody tr td:nth-child(2)").all_inner_texts()
    assert priorities == sorted(priorities, key=lambda p: p != "urgent"), "urgent first"
    expect(page.get_by_test_id("urgent-count")).not_to_contain_text("Open urgent: 0")
    ours.get_by_role("link").click()

    transcript = page.get_by_test_id("transcript")
    expect(transcript).to_contain_text("my eyelid is drooping badly")
    expect(transcript).to_contain_text("report_urgent_symptoms")
    expect(page.get_by_test_id("reason")).to_contain_text("distant_spread")

    page.get_by_role("button", name="Claim").click()
    expect(page.get_by_role("status")).to_contain_text("Claimed")
    page.get_by_label("Add a note").fill("Phoned the patient; advised emergency department.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_test_id("notes")).to_contain_text("advised emergency department")
    page.get_by_label("Outcome").select_option("referred_to_emergency")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_test_id("status")).to_contain_text("resolved")
    page.screenshot(path=str(artifacts / "staff-case-resolved.png"), full_page=True)

    page.get_by_role("link", name="Overview").click()
    expect(page.get_by_test_id("chart-by-reason")).to_contain_text("urgent")
    page.screenshot(path=str(artifacts / "staff-overview.png"), full_page=True)


def test_new_escalation_appears_in_the_open_queue_without_a_reload(servers, context, staff_login):
    page = context.new_page()
    page.goto(servers.web_url + "/staff/login")
    page.get_by_label("Username").fill(staff_login)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("queue")).to_be_visible()
    page.evaluate("window.__notReloaded = true")

    sender = f"browser-{uuid.uuid4().hex[:8]}"
    status, _ = http_json(
        "POST",
        f"{servers.rasa_url}/webhooks/rest/webhook",
        {"sender": sender, "message": "can i speak to a nurse please"},
    )
    assert status == 200
    with session_scope(servers.settings.database_url) as session:
        [escalation_id] = session.scalars(
            select(Escalation.id).where(Escalation.conversation_id == sender)
        ).all()
    link = page.get_by_test_id("queue").get_by_role("link", name=f"#{escalation_id}")
    expect(link).to_be_visible(timeout=25_000)  # the page polls every 10 s
    assert page.evaluate("window.__notReloaded") is True
