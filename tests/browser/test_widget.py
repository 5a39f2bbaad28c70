"""The patient chat widget in a real browser, against real Rasa, action and web servers.

Every test gets a fresh browser profile (its own cookie, so its own conversation). Selectors are
roles, labels and data-testid; waits are explicit (``expect``), never sleeps.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from bot.config import PROJECT_ROOT
from tests.browser.conftest import AXE

pytestmark = pytest.mark.slow

CONTENT_DIR = PROJECT_ROOT / "data" / "content"
GUIDE = (CONTENT_DIR / "guide.txt").read_text(encoding="utf-8")
TIMEOUT_MS = 15_000  # a reply normally takes well under a second; the first parse is slower
RETRY_TIMEOUT_MS = 30_000  # the widget retries on `online` and every 10 s
OUTBOX_KEY = "clinic-chat:outbox"


def _clinic() -> dict[str, str]:
    from bot.content.messages import Messages

    return Messages.load(CONTENT_DIR).clinic


def _widget_texts() -> dict[str, str]:
    from bot.content.messages import WebTexts

    return WebTexts.load(CONTENT_DIR).widget


CLINIC = _clinic()
TEXTS = _widget_texts()  # the widget's texts, as the page serves them (data/content/widget.yml)
NOT_SENT = TEXTS["status_pending"]
STRINGS_BLOCK = re.compile(
    r'(<script type="application/json" id="cw-strings"[^>]*>)(.*?)(</script>)', re.S
)


def _tel(number: str) -> str:
    return "tel:" + re.sub(r"[^\d+]", "", number)


# ------------------------------------------------------------------------------------ helpers


def launcher(page: Page):
    return page.get_by_role("button", name=TEXTS["launcher"])


def panel(page: Page):
    return page.get_by_role("dialog", name=TEXTS["title"])


def chat_input(page: Page):
    return page.get_by_label(TEXTS["input_label"])


def bot_messages(page: Page, kind: str | None = None):
    selector = '[data-testid="bot-message"]'
    if kind:
        selector += f'[data-kind="{kind}"]'
    return page.locator(selector)


def patient_messages(page: Page):
    return page.get_by_test_id("patient-message")


def wait_for_greeting(page: Page) -> None:
    greeting = bot_messages(page).first
    expect(greeting).to_contain_text("not a clinician", timeout=TIMEOUT_MS)
    expect(greeting.get_by_role("group", name=TEXTS["quick_replies"])).to_be_visible()


def open_chat(page: Page) -> None:
    launcher(page).click()
    expect(panel(page)).to_be_visible()
    expect(chat_input(page)).to_be_focused()
    wait_for_greeting(page)


def ask(page: Page, text: str) -> None:
    box = chat_input(page)
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")


def wait_until_answered(page: Page, timeout: int = TIMEOUT_MS) -> None:
    """The last patient message was delivered and its replies rendered."""
    expect(patient_messages(page).last).to_have_attribute("data-status", "sent", timeout=timeout)
    expect(page.get_by_test_id("typing-indicator")).to_have_count(0, timeout=timeout)


def focus_by_keyboard(page: Page, target, key: str = "Tab", limit: int = 60) -> None:
    """Presses Tab (or Shift+Tab) until ``target`` has the focus, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press(key)
        if target.evaluate("node => node === document.activeElement"):
            return
    raise AssertionError(f"{key} never reached {target}")


def outbox(page: Page) -> list[dict]:
    return page.evaluate(f"() => JSON.parse(localStorage.getItem('{OUTBOX_KEY}') || '[]')")


# -------------------------------------------------------------------------------------- tests


def test_faq_answer_comes_with_its_source_from_the_guide(page: Page):
    open_chat(page)
    ask(page, "how long does the injection take")

    expect(patient_messages(page).last).to_contain_text("how long does the injection take")
    answer = bot_messages(page, "answer").last
    expect(answer).to_be_visible(timeout=TIMEOUT_MS)
    expect(answer).to_contain_text("15 minutes")

    source = answer.get_by_test_id("answer-source")
    summary = source.locator("summary")
    expect(summary).to_have_text(re.compile(r"^From our patient guide: \S"))
    quotes = source.locator("blockquote")
    expect(quotes.first).to_be_hidden()  # collapsed until the patient asks for it
    summary.click()
    expect(quotes.first).to_be_visible()
    texts = quotes.all_inner_texts()
    assert texts, "the source has no quote"
    for quote in texts:
        assert quote.strip() in GUIDE, f"not a verbatim guide passage: {quote!r}"


def test_urgent_symptom_shows_a_pinned_alert_with_the_emergency_number(page: Page):
    number = CLINIC["emergency_number"]
    open_chat(page)
    alert = page.get_by_role("alert")
    expect(alert).to_be_hidden()

    ask(page, "since my injections yesterday i can't swallow properly")

    expect(bot_messages(page, "urgent")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(alert).to_be_visible()
    expect(alert).to_contain_text(number)
    call = alert.get_by_role("link", name=TEXTS["urgent_call"].format(number=number))
    expect(call).to_have_attribute("href", _tel(number))

    # More conversation: the alert stays pinned above the log, in view.
    for question in ("how often are the treatments", "does it hurt", "when will it start working"):
        ask(page, question)
        wait_until_answered(page)
    expect(bot_messages(page, "answer")).to_have_count(3)
    expect(alert).to_be_visible()
    expect(alert).to_be_in_viewport(ratio=1)
    expect(call).to_be_in_viewport(ratio=1)
    alert_box = alert.bounding_box()
    log_box = page.get_by_role("log").bounding_box()
    assert alert_box and log_box and alert_box["y"] + alert_box["height"] <= log_box["y"]


def test_markup_in_a_message_is_shown_as_text(page: Page):
    payload = "<img src=x onerror=alert(1)>"
    open_chat(page)
    ask(page, payload)
    wait_until_answered(page)

    shown = patient_messages(page).last.get_by_test_id("message-text")
    expect(shown).to_have_text(payload)
    expect(page.locator("img[src='x']")).to_have_count(0)
    expect(page.get_by_role("log").locator("img")).to_have_count(0)

    # The same message restored from the history is still text, not markup.
    page.reload()
    expect(patient_messages(page).last.get_by_test_id("message-text")).to_have_text(payload)
    expect(page.locator("img[src='x']")).to_have_count(0)
    # (the page fixture fails the test on any dialog or page error)


def test_reload_restores_the_conversation_and_the_open_panel(page: Page):
    open_chat(page)
    ask(page, "does it hurt")
    wait_until_answered(page)
    expect(bot_messages(page, "answer")).to_have_count(1)

    page.reload()

    expect(panel(page)).to_be_visible()  # open before the reload, open after it
    expect(launcher(page)).to_have_attribute("aria-expanded", "true")
    expect(patient_messages(page)).to_have_count(1)
    expect(patient_messages(page).first).to_contain_text("does it hurt")
    expect(bot_messages(page, "answer")).to_have_count(1)
    expect(bot_messages(page, "answer").get_by_test_id("answer-source")).to_have_count(1)
    expect(bot_messages(page).first).to_contain_text("not a clinician")
    expect(page.get_by_text("Hello, I'm the")).to_have_count(1)  # no second greeting

    page.get_by_role("button", name=TEXTS["close"]).click()
    expect(panel(page)).to_be_hidden()
    page.reload()
    expect(launcher(page)).to_be_visible()
    expect(panel(page)).to_be_hidden()  # closed stays closed


def test_suicidal_thoughts_pin_the_crisis_line_with_the_emergency_number(page: Page):
    crisis_line = CLINIC["crisis_line"]
    open_chat(page)
    ask(page, "honestly some nights i wish i could go to sleep and never wake up")
    alert = page.get_by_role("alert")
    expect(alert).to_be_visible(timeout=TIMEOUT_MS)
    line = alert.get_by_role("link", name=TEXTS["urgent_crisis_line"].format(number=crisis_line))
    expect(line).to_have_attribute("href", _tel(crisis_line))
    expect(
        alert.get_by_role(
            "link", name=TEXTS["urgent_call"].format(number=CLINIC["emergency_number"])
        )
    ).to_be_visible()
    ask(page, "does it hurt")
    wait_until_answered(page)
    expect(line).to_be_visible()  # still pinned above the conversation
    page.reload()
    restored = page.get_by_role("alert").get_by_role(
        "link", name=TEXTS["urgent_crisis_line"].format(number=crisis_line)
    )
    expect(restored).to_be_visible()


def test_urgent_alert_is_restored_from_the_history(page: Page):
    open_chat(page)
    ask(page, "since my injections yesterday i can't swallow properly")
    expect(page.get_by_role("alert")).to_be_visible(timeout=TIMEOUT_MS)
    page.reload()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(CLINIC["emergency_number"])


def test_widget_works_with_the_keyboard_alone(page: Page):
    # Open: Tab to the launcher, Enter; the focus lands in the input.
    focus_by_keyboard(page, launcher(page))
    page.keyboard.press("Enter")
    expect(panel(page)).to_be_visible()
    expect(chat_input(page)).to_be_focused()
    wait_for_greeting(page)

    # A quick reply: back from the input to the nearest suggestion, Enter.
    quick = page.get_by_role("button", name="Who can have it?")
    focus_by_keyboard(page, quick, key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(patient_messages(page).last).to_contain_text("Who can have it?")
    expect(chat_input(page)).to_be_focused()
    wait_until_answered(page)
    expect(bot_messages(page, "answer")).to_have_count(1)

    # Type and send with Enter, then with the Send button.
    page.keyboard.type("does it hurt")
    page.keyboard.press("Enter")
    wait_until_answered(page)
    expect(bot_messages(page, "answer")).to_have_count(2)
    page.keyboard.type("how often are the treatments")
    focus_by_keyboard(page, page.get_by_role("button", name=TEXTS["send"]))
    page.keyboard.press("Enter")
    wait_until_answered(page)
    expect(bot_messages(page, "answer")).to_have_count(3)

    # Open an answer's source from the keyboard.
    summary = bot_messages(page, "answer").last.locator("summary")
    focus_by_keyboard(page, summary, key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(bot_messages(page, "answer").last.locator("blockquote").first).to_be_visible()

    # Escape closes the panel and gives the focus back to the launcher.
    page.keyboard.press("Escape")
    expect(panel(page)).to_be_hidden()
    expect(launcher(page)).to_be_focused()
    expect(launcher(page)).to_have_attribute("aria-expanded", "false")

    # And it opens again from there; the close button works from the keyboard too.
    page.keyboard.press("Enter")
    expect(panel(page)).to_be_visible()
    expect(chat_input(page)).to_be_focused()
    focus_by_keyboard(page, page.get_by_role("button", name=TEXTS["close"]), key="Shift+Tab")
    page.keyboard.press("Enter")
    expect(panel(page)).to_be_hidden()
    expect(launcher(page)).to_be_focused()


def test_handoff_shows_how_to_reach_the_clinic(page: Page):
    open_chat(page)
    ask(page, "I would like to talk to a person please")

    handoff = bot_messages(page, "handoff").last
    expect(handoff).to_be_visible(timeout=TIMEOUT_MS)
    contact = handoff.get_by_test_id("handoff-contact")
    phone = contact.get_by_role("link", name=CLINIC["phone"])
    expect(phone).to_have_attribute("href", _tel(CLINIC["phone"]))
    expect(contact.get_by_role("link", name=CLINIC["email"])).to_have_attribute(
        "href", "mailto:" + CLINIC["email"]
    )
    expect(contact).to_contain_text(CLINIC["hours"])


def _no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_small_screen_360px(page: Page, artifacts):
    page.set_viewport_size({"width": 360, "height": 740})
    page.emulate_media(reduced_motion="reduce")
    expect(launcher(page)).to_be_in_viewport(ratio=1)
    assert _no_horizontal_scroll(page)

    open_chat(page)
    ask(page, "does it hurt")
    wait_until_answered(page)
    expect(bot_messages(page, "answer")).to_have_count(1)

    box = panel(page).bounding_box()
    assert box is not None and box["x"] == 0 and box["width"] == 360  # full width
    assert panel(page).evaluate("node => getComputedStyle(node).animationName") == "none"
    expect(chat_input(page)).to_be_in_viewport(ratio=1)
    expect(page.get_by_role("button", name=TEXTS["send"])).to_be_in_viewport(ratio=1)
    expect(page.get_by_role("button", name=TEXTS["close"])).to_be_in_viewport(ratio=1)
    assert _no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "widget-360.png"))


def test_200_percent_zoom(page: Page, artifacts):
    # 1280 x 900 at 200 % zoom lays out like a 640 x 450 CSS-pixel viewport.
    page.set_viewport_size({"width": 640, "height": 450})
    open_chat(page)
    ask(page, "since my injections yesterday i can't swallow properly")
    expect(page.get_by_role("alert")).to_be_visible(timeout=TIMEOUT_MS)
    for control in (
        chat_input(page),
        page.get_by_role("button", name=TEXTS["send"]),
        page.get_by_role("button", name=TEXTS["close"]),
        page.get_by_role("alert"),
    ):
        expect(control).to_be_in_viewport(ratio=1)
    assert _no_horizontal_scroll(page)
    page.screenshot(path=str(artifacts / "widget-zoom-200.png"))


def test_no_serious_accessibility_violations(browser, servers, artifacts):
    # axe-core is injected as a script tag; the page's CSP (rightly) refuses that, so this one
    # test's context bypasses the CSP. The widget itself never needs it (see the CSP test).
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    try:
        page.goto(servers.web_url + "/")
        open_chat(page)
        # Every kind of message on screen: answer (source open), urgent alert, handoff, buttons.
        ask(page, "does it hurt")
        wait_until_answered(page)
        bot_messages(page, "answer").last.locator("summary").click()
        ask(page, "since my injections yesterday i can't swallow properly")
        wait_until_answered(page)
        ask(page, "I would like to talk to a person please")
        wait_until_answered(page)
        expect(page.get_by_role("alert")).to_be_visible()
        expect(bot_messages(page, "handoff")).to_have_count(1)

        page.add_script_tag(path=str(AXE))
        results = page.evaluate("async () => await axe.run(document)")
        serious = [
            {
                "id": violation["id"],
                "impact": violation["impact"],
                "help": violation["help"],
                "nodes": [node["target"] for node in violation["nodes"]][:5],
            }
            for violation in results["violations"]
            if violation["impact"] in ("serious", "critical")
        ]
        (artifacts / "axe-widget.json").write_text(json.dumps(results["violations"], indent=2))
        assert serious == [], json.dumps(serious, indent=2)
        assert errors == [], errors
    finally:
        context.close()


def test_offline_message_is_kept_and_delivered_when_back_online(page: Page, context):
    open_chat(page)

    context.set_offline(True)
    ask(page, "does it hurt")
    message = patient_messages(page).last
    expect(message.get_by_test_id("message-status")).to_have_text(NOT_SENT, timeout=TIMEOUT_MS)
    notice = page.get_by_test_id("chat-notice")
    expect(notice).to_contain_text(CLINIC["phone"])
    expect(notice.get_by_role("link", name=CLINIC["phone"])).to_have_attribute(
        "href", _tel(CLINIC["phone"])
    )
    kept = outbox(page)
    assert [item["text"] for item in kept] == ["does it hurt"]
    assert 8 <= len(kept[0]["id"]) <= 64
    expect(bot_messages(page, "answer")).to_have_count(0)

    context.set_offline(False)

    expect(message).to_have_attribute("data-status", "sent", timeout=RETRY_TIMEOUT_MS)
    expect(message.get_by_test_id("message-status")).to_have_count(0)
    expect(bot_messages(page, "answer")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(notice).to_be_empty()
    expect(patient_messages(page)).to_have_count(1)
    assert outbox(page) == []


def test_message_kept_through_a_server_outage_and_a_reload(page: Page):
    """The chat API answers 503 (Rasa down): the message waits in the outbox, survives a
    reload and is delivered exactly once when the server is back."""
    open_chat(page)

    def unavailable(route):
        route.fulfill(
            status=503,
            content_type="application/json",
            body=json.dumps(
                {"messages": [{"text": "Sorry", "metadata": {"kind": "error"}}], "delivered": False}
            ),
        )

    page.route("**/api/chat", unavailable)
    ask(page, "when will it start working")
    message = patient_messages(page).last
    expect(message.get_by_test_id("message-status")).to_have_text(NOT_SENT, timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("chat-notice")).to_contain_text(CLINIC["phone"])

    page.reload()
    message = patient_messages(page).last
    expect(message).to_contain_text("when will it start working")
    expect(message.get_by_test_id("message-status")).to_have_text(NOT_SENT, timeout=TIMEOUT_MS)

    page.unroute("**/api/chat", unavailable)
    expect(message).to_have_attribute("data-status", "sent", timeout=RETRY_TIMEOUT_MS)
    expect(bot_messages(page, "answer")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(patient_messages(page)).to_have_count(1)
    assert outbox(page) == []

    page.reload()  # the server has it exactly once
    expect(patient_messages(page)).to_have_count(1)
    expect(bot_messages(page, "answer")).to_have_count(1)


def test_reply_lost_in_transit_is_not_processed_twice(page: Page):
    """The server got the message but its answer never reached the page: the retry reuses the
    client_id, the server answers from its cache, and the page shows one message, one answer."""
    open_chat(page)

    def deliver_then_drop(route):
        route.fetch()  # the server receives and answers the message ...
        route.abort("connectionreset")  # ... and the answer is lost on the way back

    page.route("**/api/chat", deliver_then_drop)
    ask(page, "does it hurt")
    expect(patient_messages(page).last.get_by_test_id("message-status")).to_have_text(
        NOT_SENT, timeout=TIMEOUT_MS
    )
    page.unroute("**/api/chat", deliver_then_drop)
    with page.expect_response("**/api/chat") as retried:
        page.evaluate("() => window.dispatchEvent(new Event('online'))")  # retry now, not in 10 s
    assert retried.value.json().get("repeated") is True  # same client_id: the cached answer

    expect(bot_messages(page, "answer")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(patient_messages(page)).to_have_count(1)
    expect(patient_messages(page).last).to_have_attribute("data-status", "sent")
    assert outbox(page) == []
    page.reload()
    expect(bot_messages(page, "answer")).to_have_count(1)
    expect(patient_messages(page)).to_have_count(1)


def test_content_security_policy_forbids_inline_code(page: Page, servers):
    response = page.request.get(servers.web_url + "/")
    csp = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp

    # The page lives with that policy: no inline script or style, and no violation reported.
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.append(message.text)
        if "Content Security Policy" in message.text
        else None,
    )
    page.reload()
    open_chat(page)
    ask(page, "does it hurt")
    wait_until_answered(page)
    bot_messages(page, "answer").last.locator("summary").click()
    expect(page.locator('script:not([src]):not([type="application/json"])')).to_have_count(0)
    expect(page.locator('script[type="application/json"]')).to_have_count(1)  # texts: data
    expect(page.locator("[style]")).to_have_count(0)
    expect(page.locator("style")).to_have_count(0)
    assert violations == []


def test_too_many_messages_are_kept_and_sent_when_allowed(page: Page):
    """The chat API answers 429 (this patient sent too many messages): the widget says so,
    keeps the message, and delivers it once when the limit allows."""
    open_chat(page)

    def too_many(route):
        route.fulfill(
            status=429,
            headers={"Retry-After": "1"},
            content_type="application/json",
            body=json.dumps({"error": "You are sending messages faster", "retry_after": 1}),
        )

    page.route("**/api/chat", too_many)
    ask(page, "how long does the appointment take")
    message = patient_messages(page).last
    expect(message.get_by_test_id("message-status")).to_have_text(NOT_SENT, timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("chat-notice")).to_have_text(TEXTS["slow_down"])
    assert len(outbox(page)) == 1

    page.unroute("**/api/chat", too_many)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")  # retry now, not in 10 s
    expect(message).to_have_attribute("data-status", "sent", timeout=RETRY_TIMEOUT_MS)
    expect(bot_messages(page, "answer")).to_have_count(1, timeout=TIMEOUT_MS)
    expect(page.get_by_test_id("chat-notice")).to_be_empty()
    assert outbox(page) == []


def test_widget_texts_come_from_the_page_and_a_missing_one_breaks_nothing(page: Page, context):
    """widget.js reads its texts from the page's data block: an edited text shows up as edited;
    missing texts leave the widget working, with the phone and emergency numbers still shown."""

    def edited(route):
        response = route.fetch()
        head, block, tail = STRINGS_BLOCK.search(response.text()).groups()
        texts = json.loads(block)
        texts["status_pending"] = "Waiting for the connection"
        for key in ("offline", "unreachable", "call_us_hours", "emergency_call"):
            del texts[key]
        html = STRINGS_BLOCK.sub(lambda _: head + json.dumps(texts) + tail, response.text())
        route.fulfill(response=response, body=html)

    page.route(re.compile(r".*/$"), edited)
    page.reload()
    open_chat(page)

    context.set_offline(True)
    ask(page, "does it hurt")
    message = patient_messages(page).last
    status = message.get_by_test_id("message-status")
    expect(status).to_have_text("Waiting for the connection", timeout=TIMEOUT_MS)
    notice = page.get_by_test_id("chat-notice")
    expect(notice.get_by_role("link", name=CLINIC["phone"])).to_have_attribute(
        "href", _tel(CLINIC["phone"])
    )
    expect(notice.get_by_role("link", name=CLINIC["emergency_number"])).to_have_attribute(
        "href", _tel(CLINIC["emergency_number"])
    )

    context.set_offline(False)
    expect(message).to_have_attribute("data-status", "sent", timeout=RETRY_TIMEOUT_MS)
    expect(bot_messages(page, "answer")).to_have_count(1, timeout=TIMEOUT_MS)
