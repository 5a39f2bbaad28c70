/*
 * The chat widget, part 2 of 3: rendering the conversation, the urgent alert and the notices.
 * Texts come from widget-text.js; widget.js creates the view and drives it. A little over 400
 * lines: every piece of the chat's markup is here, so its accessibility can be read in one place.
 *
 * Every message, the patient's and the bot's, is rendered with createElement/textContent, never
 * innerHTML with data. No inline styles (CSP style-src 'self'): state is shown with classes and
 * the hidden attribute.
 */
(function () {
  "use strict";

  var C = window.ClinicChat;
  if (!C) {
    return;
  }
  var t = C.t;
  var tNodes = C.tNodes;
  var el = C.el;
  var isString = C.isString;

  // root: the #chat-widget element; clinic: its facts; app: what the view needs from widget.js
  // ({state, getOutbox(), send(payload, title)}).
  C.createView = function (root, clinic, app) {
    var state = app.state;
    var panel = root.querySelector(".cw-panel");
    var urgentBox = root.querySelector(".cw-urgent");
    var log = root.querySelector(".cw-log");
    var notice = root.querySelector(".cw-notice");
    var input = root.querySelector(".cw-input");

    var typing = el("div", "cw-typing");
    typing.setAttribute("data-testid", "typing-indicator");
    typing.appendChild(C.srOnly(t("typing")));
    for (var d = 0; d < 3; d += 1) {
      var dot = el("span", "cw-typing__dot");
      dot.setAttribute("aria-hidden", "true");
      typing.appendChild(dot);
    }

    function typingShown() {
      return typing.parentNode === log;
    }

    function appendToLog(node) {
      log.insertBefore(node, typingShown() ? typing : null);
    }

    function scrollToEnd() {
      log.scrollTop = log.scrollHeight;
    }

    function scrollToShow(node) {
      // Long answers: show the start of the reply, not only its end.
      var target = node.offsetTop - 12;
      log.scrollTop = Math.max(0, Math.min(target, log.scrollHeight));
    }

    function showTyping() {
      if (!typingShown()) {
        log.appendChild(typing);
        scrollToEnd();
      }
    }

    function hideTyping() {
      if (typing.parentNode) {
        typing.parentNode.removeChild(typing);
      }
    }

    function statusText(status, detail) {
      if (status === "failed") {
        return t("status_failed", { reason: detail || t("failed_reason") });
      }
      return status === "pending" ? t("status_pending") : "";
    }

    function setPatientState(node, status, detail) {
      node.classList.remove("cw-msg--sending", "cw-msg--pending", "cw-msg--failed");
      if (status !== "sent") {
        node.classList.add("cw-msg--" + status);
      }
      node.setAttribute("data-status", status);
      var line = node.querySelector(".cw-status");
      var text = statusText(status, detail);
      if (!text) {
        if (line) {
          line.parentNode.removeChild(line);
        }
        return;
      }
      if (!line) {
        line = el("p", "cw-status");
        line.setAttribute("data-testid", "message-status");
        node.appendChild(line);
      }
      if (line.textContent !== text) {
        line.textContent = text;
      }
    }

    function patientMessage(text, clientId, status) {
      var node = el("div", "cw-msg cw-msg--patient");
      node.setAttribute("data-testid", "patient-message");
      if (clientId) {
        node.setAttribute("data-client-id", clientId);
      }
      var bubble = el("p", "cw-bubble");
      bubble.appendChild(C.srOnly(t("you_said") + " "));
      var body = el("span", "cw-text", text);
      body.setAttribute("data-testid", "message-text");
      bubble.appendChild(body);
      node.appendChild(bubble);
      setPatientState(node, status || "sent");
      return node;
    }

    function findPatient(clientId) {
      var nodes = log.querySelectorAll(".cw-msg--patient[data-client-id]");
      for (var i = 0; i < nodes.length; i += 1) {
        if (nodes[i].getAttribute("data-client-id") === clientId) {
          return nodes[i];
        }
      }
      return null;
    }

    function reviewedText(source) {
      var values = {
        reviewer: source.reviewer ? String(source.reviewer) : "",
        date: source.reviewed_on ? C.formatDate(String(source.reviewed_on)) : "",
      };
      if (values.reviewer && values.date) {
        return t("source_reviewed_by_on", values);
      }
      return values.reviewer ? t("source_reviewed_by", values) : t("source_reviewed_on", values);
    }

    function sourceDetails(source) {
      var details = el("details", "cw-source");
      details.setAttribute("data-testid", "answer-source");
      var label = isString(source.label) ? source.label : t("source_label");
      details.appendChild(el("summary", null, label + (source.section ? " " + source.section : "")));
      var quotes = Array.isArray(source.quotes) ? source.quotes : [];
      quotes.forEach(function (quote) {
        if (isString(quote) && quote) {
          var block = el("blockquote");
          block.appendChild(el("p", null, quote));
          details.appendChild(block);
        }
      });
      var meta = [];
      if (source.document) {
        meta.push(String(source.document));
      }
      if (source.reviewer || source.reviewed_on) {
        meta.push(reviewedText(source));
      }
      if (meta.length) {
        details.appendChild(el("p", "cw-source-meta", meta.join(". ") + "."));
      }
      return details;
    }

    function contactItem(list, label, value) {
      var li = el("li");
      li.appendChild(el("span", "cw-contact__label", label + " "));
      li.appendChild(value);
      list.appendChild(li);
    }

    function contactCard(contact) {
      contact = contact || {};
      var phone = contact.phone || clinic.phone;
      var email = contact.email || clinic.email;
      var hours = contact.hours || clinic.hours;
      var box = el("div", "cw-contact");
      box.setAttribute("data-testid", "handoff-contact");
      box.appendChild(el("p", "cw-contact__name", contact.name || clinic.name));
      var list = el("ul");
      if (phone) {
        contactItem(list, t("contact_phone"), C.phoneLink(phone));
      }
      if (email) {
        contactItem(list, t("contact_email"), C.emailLink(email));
      }
      if (hours) {
        contactItem(list, t("contact_hours"), document.createTextNode(hours));
      }
      box.appendChild(list);
      return box;
    }

    function quickReplies(buttons) {
      var group = el("div", "cw-quick");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", t("quick_replies"));
      buttons.forEach(function (button) {
        if (!button || !isString(button.title) || !button.title) {
          return;
        }
        var payload = isString(button.payload) && button.payload ? button.payload : button.title;
        var node = el("button", "cw-quick__button", button.title);
        node.type = "button";
        node.setAttribute("data-payload", payload);
        if (payload === "/report_urgent_symptoms") {
          node.classList.add("cw-quick__button--urgent");
        }
        node.addEventListener("click", function () {
          app.send(payload, button.title);
          input.focus();
        });
        group.appendChild(node);
      });
      return group;
    }

    function botMessage(message) {
      var meta = message.metadata && typeof message.metadata === "object" ? message.metadata : {};
      var kind = isString(meta.kind) ? meta.kind : "smalltalk";
      var node = el("div", "cw-msg cw-msg--bot cw-msg--" + kind.replace(/[^a-z]/g, ""));
      node.setAttribute("data-testid", "bot-message");
      node.setAttribute("data-kind", kind);
      var bubble = el("p", "cw-bubble");
      if (kind === "staff") {
        // Written by a person at the clinic: labelled visibly, and set as text, never as HTML.
        var staffName = isString(meta.staff_name) ? meta.staff_name : "";
        node.appendChild(el("p", "cw-from-staff", t("staff_said", { name: staffName })));
      } else {
        var who = kind === "urgent" ? t("assistant_urgent") : t("assistant_said");
        bubble.appendChild(C.srOnly(who + " "));
      }
      bubble.appendChild(el("span", "cw-text", message.text || ""));
      node.appendChild(bubble);
      if (kind === "answer" && meta.source && typeof meta.source === "object") {
        node.appendChild(sourceDetails(meta.source));
      }
      if (kind === "handoff" || kind === "error") {
        node.appendChild(contactCard(meta.contact));
      }
      if (Array.isArray(message.buttons) && message.buttons.length) {
        node.appendChild(quickReplies(message.buttons));
      }
      if (kind === "urgent") {
        showUrgent(meta.emergency_number || clinic.emergency, message.text || "", meta);
      }
      return node;
    }

    function callLink(text, number, className, testId) {
      var a = C.link(C.telHref(number), text, className);
      a.setAttribute("data-testid", testId);
      return a;
    }

    // The urgent alert is pinned above the log (outside the scrolling area) and stays there.
    // A crisis (suicidal thoughts) also pins the crisis line; an overdose, poison control.
    function showUrgent(number, text, meta) {
      number = String(number || clinic.emergency);
      meta = meta || {};
      if (state.urgentText === number + "\n" + text && !urgentBox.hidden) {
        return;
      }
      state.urgentText = number + "\n" + text;
      clear(urgentBox);
      var row = el("div", "cw-urgent__row");
      row.appendChild(el("p", "cw-urgent__title", t("urgent_title")));
      row.appendChild(
        callLink(t("urgent_call", { number: number }), number, "cw-urgent__call", "urgent-call")
      );
      if (meta.crisis_line) {
        var crisis = t("urgent_crisis_line", { number: meta.crisis_line });
        row.appendChild(
          callLink(crisis, meta.crisis_line, "cw-urgent__call cw-urgent__call--crisis",
            "urgent-crisis-line")
        );
      }
      if (meta.poison_control) {
        var poison = t("urgent_poison_control", { number: meta.poison_control });
        row.appendChild(
          callLink(poison, meta.poison_control, "cw-urgent__call cw-urgent__call--poison",
            "urgent-poison-control")
        );
      }
      urgentBox.appendChild(row);
      if (text) {
        urgentBox.appendChild(el("p", "cw-urgent__text", text));
      }
      urgentBox.setAttribute("data-emergency-number", number);
      urgentBox.hidden = false;
    }

    function clear(node) {
      while (node.firstChild) {
        node.removeChild(node.firstChild);
      }
    }

    function addSentence(p, nodes) {
      p.appendChild(document.createTextNode(" "));
      p.appendChild(nodes);
    }

    function showNotice(hasPending) {
      clear(notice);
      var p = el("p");
      p.appendChild(el("strong", null, navigator.onLine === false ? t("offline") : t("unreachable")));
      addSentence(p, hasPending ? tNodes("pending_saved") : tNodes("try_again"));
      if (clinic.phone && clinic.hours) {
        var values = { phone: C.phoneLink(clinic.phone), hours: clinic.hours };
        addSentence(p, tNodes("call_us_hours", values));
      } else if (clinic.phone) {
        addSentence(p, tNodes("call_us", { phone: C.phoneLink(clinic.phone) }));
      }
      if (clinic.emergency) {
        addSentence(p, tNodes("emergency_call", { number: C.phoneLink(clinic.emergency) }));
      }
      notice.appendChild(p);
      notice.setAttribute("data-state", "offline");
    }

    function showSlowDown() {
      clear(notice);
      notice.appendChild(el("p", null, t("slow_down")));
      notice.setAttribute("data-state", "slow");
    }

    function clearNotice() {
      clear(notice);
      notice.removeAttribute("data-state");
    }

    function renderPendingOutbox() {
      app.getOutbox().forEach(function (item) {
        if (!item.hidden && !findPatient(item.id)) {
          var status = state.flushing ? "sending" : "pending";
          appendToLog(patientMessage(item.display || item.text, item.id, status));
        }
      });
    }

    // The whole log from the server's history, then what is still waiting in the outbox.
    function renderAll(turns) {
      log.setAttribute("aria-busy", "true");
      var inFlight = typingShown();
      clear(log);
      var delivered = 0;
      turns.forEach(function (turn) {
        if (!turn || !isString(turn.text)) {
          return;
        }
        if (turn.who === "patient") {
          log.appendChild(patientMessage(turn.text, null, "sent"));
        } else {
          log.appendChild(botMessage(turn));
        }
        delivered += 1;
      });
      state.deliveredTurns = delivered;
      renderPendingOutbox();
      if (inFlight) {
        log.appendChild(typing);
      }
      log.removeAttribute("aria-busy");
      scrollToEnd();
    }

    function firstUnsent() {
      return log.querySelector(".cw-msg--sending, .cw-msg--pending");
    }

    // Replies go right after the message they answer (later messages may already be waiting).
    function renderReplies(bubble, messages) {
      var anchor = bubble ? bubble.nextSibling : firstUnsent();
      var first = null;
      messages.forEach(function (message) {
        if (!message || typeof message !== "object") {
          return;
        }
        var node = botMessage(message);
        log.insertBefore(node, anchor);
        first = first || node;
        state.deliveredTurns += 1;
      });
      if (first && !panel.hidden) {
        scrollToShow(bubble || first);
      }
    }

    // A patient message queued by another tab: shown before the replies to it.
    function insertPatient(node) {
      log.insertBefore(node, firstUnsent() || (typingShown() ? typing : null));
    }

    return {
      appendToLog: appendToLog,
      scrollToEnd: scrollToEnd,
      showTyping: showTyping,
      hideTyping: hideTyping,
      setPatientState: setPatientState,
      patientMessage: patientMessage,
      findPatient: findPatient,
      insertPatient: insertPatient,
      showNotice: showNotice,
      showSlowDown: showSlowDown,
      clearNotice: clearNotice,
      renderPendingOutbox: renderPendingOutbox,
      renderAll: renderAll,
      renderReplies: renderReplies,
    };
  };
})();
