/*
 * The clinic's chat widget: vanilla JS in one IIFE, no framework, no build step.
 *
 * Why not rasa-webchat: it has been unmaintained since 2023, is built on socket.io-client 3 and
 * documents Rasa 2, and it talks to Rasa straight from the browser. This widget talks same-origin
 * REST to our own web app instead (POST /api/chat, GET /api/history), so the Rasa token and the
 * conversation id (an HttpOnly session cookie) stay on the server and the page needs no
 * connect-src beyond 'self'.
 *
 * Rules kept here:
 * - Every message, the patient's and the bot's, is rendered with createElement/textContent.
 *   Never innerHTML with data.
 * - No inline styles (CSP style-src 'self'): state is shown with classes and the hidden attribute.
 * - A patient message is never dropped: it goes into an outbox in localStorage (with its
 *   client_id) before it is sent and leaves it only when the server has answered. Retries reuse
 *   the client_id, so the server answers a resend with the same reply instead of a second one.
 */
(function () {
  "use strict";

  var root = document.getElementById("chat-widget");
  if (!root || !window.fetch) {
    return;
  }

  var OUTBOX_KEY = "clinic-chat:outbox";
  var OPEN_KEY = "clinic-chat:open";
  var RETRY_MS = 10000;
  var REQUEST_TIMEOUT_MS = 40000;
  var GREET = "/greet";

  var clinic = {
    name: root.dataset.clinicName || "the clinic",
    phone: root.dataset.phone || "",
    email: root.dataset.email || "",
    hours: root.dataset.hours || "",
    emergency: root.dataset.emergencyNumber || "",
  };
  var chatUrl = root.dataset.chatUrl || "/api/chat";
  var historyUrl = root.dataset.historyUrl || "/api/history";

  var launcher = root.querySelector(".cw-launcher");
  var panel = root.querySelector(".cw-panel");
  var closeButton = root.querySelector(".cw-close");
  var urgentBox = root.querySelector(".cw-urgent");
  var log = root.querySelector(".cw-log");
  var notice = root.querySelector(".cw-notice");
  var form = root.querySelector(".cw-form");
  var input = root.querySelector(".cw-input");

  var state = {
    opened: false, // the panel has been opened at least once on this page
    historyLoaded: false,
    historyLoading: null, // the pending history promise
    flushing: false,
    deliveredTurns: 0, // turns the server knows about (history + answered messages)
    urgentText: null,
  };

  // ---------------------------------------------------------------- small helpers

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function srOnly(text) {
    return el("span", "sr-only", text);
  }

  function telHref(number) {
    return "tel:" + String(number).replace(/[^\d+]/g, "");
  }

  function link(href, text, className) {
    var a = el("a", className, text);
    a.setAttribute("href", href);
    return a;
  }

  function phoneLink(number, className) {
    return link(telHref(number), number, className);
  }

  function emailLink(address) {
    // A plain address only: anything else is shown as text.
    if (/^[^\s@<>"]+@[^\s@<>"]+$/.test(address)) {
      return link("mailto:" + address, address);
    }
    return document.createTextNode(address);
  }

  function newClientId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i += 1) {
      hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return "c" + hex;
  }

  function readStore(storage, key, fallback) {
    try {
      var raw = storage.getItem(key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (error) {
      return fallback;
    }
  }

  function writeStore(storage, key, value) {
    try {
      storage.setItem(key, JSON.stringify(value));
      return true;
    } catch (error) {
      return false; // storage full or disabled
    }
  }

  function isString(value) {
    return typeof value === "string";
  }

  // ---------------------------------------------------------------- the outbox

  // localStorage is the truth (shared by the patient's tabs, kept across reloads); every change
  // re-reads it first so one tab never overwrites another's waiting messages. If storage is
  // unavailable the outbox lives in memory for this page.
  var memoryOutbox = [];
  var storageWorks = true;

  function validItems(list) {
    return list.filter(function (item) {
      return item && isString(item.id) && isString(item.text) && item.text.length > 0;
    });
  }

  function getOutbox() {
    if (storageWorks) {
      var stored = readStore(window.localStorage, OUTBOX_KEY, []);
      if (Array.isArray(stored)) {
        return validItems(stored);
      }
    }
    return memoryOutbox.slice();
  }

  function setOutbox(list) {
    memoryOutbox = list.slice();
    if (storageWorks && !writeStore(window.localStorage, OUTBOX_KEY, list)) {
      storageWorks = false;
    }
  }

  function addToOutbox(item, first) {
    var list = getOutbox();
    if (first) {
      list.unshift(item);
    } else {
      list.push(item);
    }
    setOutbox(list);
  }

  function removeFromOutbox(id) {
    setOutbox(
      getOutbox().filter(function (item) {
        return item.id !== id;
      })
    );
  }

  function hasVisiblePending() {
    return getOutbox().some(function (item) {
      return !item.hidden;
    });
  }

  try {
    window.localStorage.getItem(OUTBOX_KEY);
  } catch (error) {
    storageWorks = false;
  }

  // ---------------------------------------------------------------- rendering

  var typing = el("div", "cw-typing");
  typing.setAttribute("data-testid", "typing-indicator");
  typing.appendChild(srOnly("Assistant is typing"));
  for (var d = 0; d < 3; d += 1) {
    var dot = el("span", "cw-typing__dot");
    dot.setAttribute("aria-hidden", "true");
    typing.appendChild(dot);
  }

  function appendToLog(node) {
    log.insertBefore(node, typing.parentNode === log ? typing : null);
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
    if (typing.parentNode !== log) {
      log.appendChild(typing);
      scrollToEnd();
    }
  }

  function hideTyping() {
    if (typing.parentNode) {
      typing.parentNode.removeChild(typing);
    }
  }

  var STATUS_TEXT = {
    sending: "",
    pending: "Not sent yet \u2014 will retry",
    sent: "",
  };

  function setPatientState(node, status, detail) {
    node.classList.remove("cw-msg--sending", "cw-msg--pending", "cw-msg--failed");
    if (status !== "sent") {
      node.classList.add("cw-msg--" + status);
    }
    node.setAttribute("data-status", status);
    var line = node.querySelector(".cw-status");
    var text = status === "failed" ? "Not sent \u2014 " + (detail || "please try again") : STATUS_TEXT[status];
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
    bubble.appendChild(srOnly("You said: "));
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

  function formatDate(iso) {
    var match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso || "");
    if (!match) {
      return iso || "";
    }
    var date = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
    try {
      return date.toLocaleDateString("en-GB", { day: "numeric", month: "long", year: "numeric" });
    } catch (error) {
      return iso;
    }
  }

  function sourceDetails(source) {
    var details = el("details", "cw-source");
    details.setAttribute("data-testid", "answer-source");
    var label = isString(source.label) ? source.label : "From our patient guide:";
    var summary = el("summary", null, label + (source.section ? " " + source.section : ""));
    details.appendChild(summary);
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
      var reviewed = "Reviewed";
      if (source.reviewer) {
        reviewed += " by " + source.reviewer;
      }
      if (source.reviewed_on) {
        reviewed += ", " + formatDate(String(source.reviewed_on));
      }
      meta.push(reviewed);
    }
    if (meta.length) {
      details.appendChild(el("p", "cw-source-meta", meta.join(". ") + "."));
    }
    return details;
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
      var li = el("li");
      li.appendChild(el("span", "cw-contact__label", "Phone: "));
      li.appendChild(phoneLink(phone));
      list.appendChild(li);
    }
    if (email) {
      var liEmail = el("li");
      liEmail.appendChild(el("span", "cw-contact__label", "Email: "));
      liEmail.appendChild(emailLink(email));
      list.appendChild(liEmail);
    }
    if (hours) {
      var liHours = el("li");
      liHours.appendChild(el("span", "cw-contact__label", "Hours: "));
      liHours.appendChild(document.createTextNode(hours));
      list.appendChild(liHours);
    }
    box.appendChild(list);
    return box;
  }

  function quickReplies(buttons) {
    var group = el("div", "cw-quick");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Suggested replies");
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
        send(payload, button.title);
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
    bubble.appendChild(srOnly(kind === "urgent" ? "Assistant, urgent: " : "Assistant: "));
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

  // The urgent alert is pinned above the log (outside the scrolling area) and stays there.
  // A crisis (suicidal thoughts) also pins the crisis line; an overdose, poison control.
  function showUrgent(number, text, meta) {
    number = String(number || clinic.emergency);
    meta = meta || {};
    if (state.urgentText === number + "\n" + text && !urgentBox.hidden) {
      return;
    }
    state.urgentText = number + "\n" + text;
    while (urgentBox.firstChild) {
      urgentBox.removeChild(urgentBox.firstChild);
    }
    var row = el("div", "cw-urgent__row");
    row.appendChild(el("p", "cw-urgent__title", "Urgent: get emergency help now"));
    var call = link(telHref(number), "Call " + number, "cw-urgent__call");
    call.setAttribute("data-testid", "urgent-call");
    row.appendChild(call);
    if (meta.crisis_line) {
      var crisis = link(telHref(meta.crisis_line), "Crisis line " + meta.crisis_line,
        "cw-urgent__call cw-urgent__call--crisis");
      crisis.setAttribute("data-testid", "urgent-crisis-line");
      row.appendChild(crisis);
    }
    if (meta.poison_control) {
      var poison = link(telHref(meta.poison_control), "Poison Control " + meta.poison_control,
        "cw-urgent__call cw-urgent__call--poison");
      poison.setAttribute("data-testid", "urgent-poison-control");
      row.appendChild(poison);
    }
    urgentBox.appendChild(row);
    if (text) {
      urgentBox.appendChild(el("p", "cw-urgent__text", text));
    }
    urgentBox.setAttribute("data-emergency-number", number);
    urgentBox.hidden = false;
  }

  function showNotice(hasPending) {
    while (notice.firstChild) {
      notice.removeChild(notice.firstChild);
    }
    var p = el("p");
    var offline = navigator.onLine === false;
    p.appendChild(
      el("strong", null, offline ? "You seem to be offline." : "We can't reach the assistant right now.")
    );
    p.appendChild(
      document.createTextNode(
        hasPending
          ? " Your message is saved and will be sent automatically when the connection is back."
          : " Please try again in a moment."
      )
    );
    if (clinic.phone) {
      p.appendChild(document.createTextNode(" To talk to us now, call "));
      p.appendChild(phoneLink(clinic.phone));
      p.appendChild(document.createTextNode(clinic.hours ? " (" + clinic.hours + ")." : "."));
    }
    if (clinic.emergency) {
      p.appendChild(document.createTextNode(" In an emergency, call "));
      p.appendChild(phoneLink(clinic.emergency));
      p.appendChild(document.createTextNode("."));
    }
    notice.appendChild(p);
    notice.setAttribute("data-state", "offline");
  }

  function showSlowDown() {
    while (notice.firstChild) {
      notice.removeChild(notice.firstChild);
    }
    notice.appendChild(
      el(
        "p",
        null,
        "You're sending messages faster than we can answer. Your message is saved and will be sent in a few seconds."
      )
    );
    notice.setAttribute("data-state", "slow");
  }

  function clearNotice() {
    while (notice.firstChild) {
      notice.removeChild(notice.firstChild);
    }
    notice.removeAttribute("data-state");
  }

  function renderPendingOutbox() {
    getOutbox().forEach(function (item) {
      if (!item.hidden && !findPatient(item.id)) {
        appendToLog(patientMessage(item.display || item.text, item.id, state.flushing ? "sending" : "pending"));
      }
    });
  }

  // The whole log from the server's history, then what is still waiting in the outbox.
  function renderAll(turns) {
    log.setAttribute("aria-busy", "true");
    var inFlight = typing.parentNode === log;
    while (log.firstChild) {
      log.removeChild(log.firstChild);
    }
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

  // ---------------------------------------------------------------- talking to the server

  function request(url, options) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller
      ? window.setTimeout(function () {
          controller.abort();
        }, REQUEST_TIMEOUT_MS)
      : null;
    options = options || {};
    options.credentials = "same-origin";
    options.cache = "no-store";
    if (controller) {
      options.signal = controller.signal;
    }
    return fetch(url, options)
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return null;
          })
          .then(function (data) {
            return { status: response.status, ok: response.ok, data: data };
          });
      })
      .finally(function () {
        if (timer) {
          window.clearTimeout(timer);
        }
      });
  }

  function loadHistory() {
    if (state.historyLoading) {
      return state.historyLoading;
    }
    state.historyLoading = request(historyUrl, { headers: { Accept: "application/json" } })
      .then(function (result) {
        if (!result.ok || !result.data || !Array.isArray(result.data.messages)) {
          throw new Error("history unavailable");
        }
        state.historyLoaded = true;
        renderAll(result.data.messages);
        if (!getOutbox().length) {
          clearNotice();
        }
        return true;
      })
      .catch(function () {
        renderPendingOutbox();
        showNotice(hasVisiblePending());
        return false;
      })
      .finally(function () {
        state.historyLoading = null;
      });
    return state.historyLoading;
  }

  function postChat(item) {
    return request(chatUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ message: item.text, client_id: item.id }),
    }).then(
      function (result) {
        var data = result.data || {};
        if (result.ok && Array.isArray(data.messages)) {
          return { sent: true, messages: data.messages, repeated: data.repeated === true };
        }
        if (result.status === 400 || result.status === 413) {
          return { sent: false, retry: false, error: isString(data.error) ? data.error : "" };
        }
        if (result.status === 429) {
          // Too many messages at once: kept in the outbox and sent by the regular retry.
          return { sent: false, retry: true, slowDown: true };
        }
        return { sent: false, retry: true }; // 503 (Rasa down) and anything unexpected
      },
      function () {
        return { sent: false, retry: true }; // offline, connection refused, timeout
      }
    );
  }

  function markUnsent() {
    getOutbox().forEach(function (item) {
      var node = item.hidden ? null : findPatient(item.id);
      if (node) {
        setPatientState(node, "pending");
      }
    });
  }

  // Sends what is in the outbox, oldest first, one at a time; stops at the first failure.
  function flush() {
    if (state.flushing || !getOutbox().length) {
      return Promise.resolve();
    }
    state.flushing = true;
    var waitForHistory = state.historyLoading || Promise.resolve();

    function next() {
      var item = getOutbox()[0];
      if (!item) {
        return Promise.resolve();
      }
      showTyping();
      return postChat(item).then(function (result) {
        hideTyping();
        if (result.sent) {
          removeFromOutbox(item.id);
          clearNotice();
          var node = item.hidden ? null : findPatient(item.id);
          if (result.repeated) {
            // The server had this message already (an earlier attempt got through but its
            // answer was lost): the history is the truth, render it again.
            return loadHistory().then(function (ok) {
              if (!ok) {
                var again = item.hidden ? null : findPatient(item.id);
                if (again) {
                  setPatientState(again, "sent");
                  again.removeAttribute("data-client-id");
                }
                renderReplies(again, result.messages);
              }
              return next();
            });
          }
          if (!node && !item.hidden) {
            // Queued by another tab of this patient: show it before its replies.
            node = patientMessage(item.display || item.text, item.id, "sent");
            log.insertBefore(node, firstUnsent() || (typing.parentNode === log ? typing : null));
          }
          if (node) {
            setPatientState(node, "sent");
            node.removeAttribute("data-client-id");
            state.deliveredTurns += 1;
          }
          renderReplies(node, result.messages);
          return next();
        }
        if (result.retry) {
          markUnsent();
          if (result.slowDown) {
            showSlowDown();
          } else {
            showNotice(hasVisiblePending());
          }
          return null;
        }
        // Refused by the server (e.g. too long): it would never go through; say so, keep the text.
        removeFromOutbox(item.id);
        var refused = item.hidden ? null : findPatient(item.id);
        if (refused) {
          setPatientState(refused, "failed", result.error || "please rephrase and try again");
        }
        if (!item.hidden && !input.value) {
          input.value = item.display || item.text;
        }
        return next();
      });
    }

    return waitForHistory
      .then(next)
      .catch(function () {
        hideTyping();
        markUnsent();
      })
      .finally(function () {
        state.flushing = false;
      });
  }

  function send(text, display, hidden) {
    var item = { id: newClientId(), text: text, display: display || text, hidden: !!hidden, at: Date.now() };
    addToOutbox(item, false);
    if (!hidden) {
      appendToLog(patientMessage(item.display, item.id, "sending"));
      scrollToEnd();
    }
    return flush();
  }

  // A new conversation starts with the hidden "/greet": the greeting carries the disclaimer and
  // the suggestion buttons. Only once the history is known to be empty.
  function ensureGreeting() {
    if (!state.opened || !state.historyLoaded || state.deliveredTurns > 0) {
      return;
    }
    var queued = getOutbox().some(function (item) {
      return item.hidden && item.text === GREET;
    });
    if (!queued) {
      addToOutbox({ id: newClientId(), text: GREET, display: "", hidden: true, at: Date.now() }, true);
    }
  }

  function retry() {
    var start = state.historyLoaded ? Promise.resolve(true) : loadHistory();
    return start.then(function () {
      ensureGreeting();
      return flush();
    });
  }

  // ---------------------------------------------------------------- opening and closing

  function isOpen() {
    return !panel.hidden;
  }

  function openPanel(moveFocus) {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    writeStore(window.sessionStorage, OPEN_KEY, true);
    state.opened = true;
    scrollToEnd();
    if (moveFocus) {
      input.focus();
    }
    if (state.historyLoaded) {
      ensureGreeting();
      flush();
    }
  }

  function closePanel(returnFocus) {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    writeStore(window.sessionStorage, OPEN_KEY, false);
    if (returnFocus) {
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () {
    if (isOpen()) {
      closePanel(false);
    } else {
      openPanel(true);
    }
  });

  closeButton.addEventListener("click", function () {
    closePanel(true);
  });

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" || !isOpen()) {
      return;
    }
    var active = document.activeElement;
    if (panel.contains(active) || active === launcher || active === document.body) {
      event.preventDefault();
      closePanel(true);
    }
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) {
      input.focus();
      return;
    }
    input.value = "";
    send(text, text);
    input.focus();
  });

  window.addEventListener("online", retry);
  window.setInterval(function () {
    if (getOutbox().length || !state.historyLoaded) {
      retry();
    }
  }, RETRY_MS);

  // ---------------------------------------------------------------- start

  root.hidden = false;
  if (readStore(window.sessionStorage, OPEN_KEY, false) === true) {
    openPanel(false);
  }
  retry();
})();
