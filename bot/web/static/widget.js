/*
 * The clinic's chat widget, part 3 of 3: the outbox, talking to the server, opening and closing.
 * widget-text.js (texts from content, DOM helpers) and widget-view.js (rendering) load first.
 * Vanilla JS, no framework, no build step. A little over 400 lines: the outbox and its retries
 * are one state machine, clearer in one file than split.
 *
 * Why not rasa-webchat: it has been unmaintained since 2023, is built on socket.io-client 3 and
 * documents Rasa 2, and it talks to Rasa straight from the browser. This widget talks same-origin
 * REST to our own web app instead (POST /api/chat, GET /api/history), so the Rasa token and the
 * conversation id (an HttpOnly session cookie) stay on the server and the page needs no
 * connect-src beyond 'self'.
 *
 * A patient message is never dropped: it goes into an outbox in localStorage (with its
 * client_id) before it is sent and leaves it only when the server has answered. Retries reuse
 * the client_id, so the server answers a resend with the same reply instead of a second one.
 */
(function () {
  "use strict";

  var C = window.ClinicChat;
  var root = document.getElementById("chat-widget");
  if (!root || !window.fetch || !C || !C.createView) {
    return;
  }

  var OUTBOX_KEY = "clinic-chat:outbox";
  var OPEN_KEY = "clinic-chat:open";
  var RETRY_MS = 10000;
  var POLL_MS = 3000; // a staff reply shows within this long
  var REQUEST_TIMEOUT_MS = 40000;
  var GREET = "/greet";

  var clinic = {
    name: root.dataset.clinicName || "",
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
  var form = root.querySelector(".cw-form");
  var input = root.querySelector(".cw-input");
  var log = root.querySelector(".cw-log");

  var state = {
    opened: false, // the panel has been opened at least once on this page
    historyLoaded: false,
    historyLoading: null, // the pending history promise
    flushing: false,
    deliveredTurns: 0, // turns the server knows about (history + answered messages)
    sent: 0, // messages put in the outbox on this page (a poll started before one is stale)
    urgentText: null,
  };

  var readStore = C.readStore;
  var writeStore = C.writeStore;
  var isString = C.isString;

  function newClientId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i += 1) {
      hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return "c" + hex;
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

  var view = C.createView(root, clinic, { state: state, getOutbox: getOutbox, send: send });

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
          throw new Error("history-unavailable"); // caught below, never shown
        }
        state.historyLoaded = true;
        view.renderAll(result.data.messages);
        if (!getOutbox().length) {
          view.clearNotice();
        }
        return true;
      })
      .catch(function () {
        view.renderPendingOutbox();
        view.showNotice(hasVisiblePending());
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
      var node = item.hidden ? null : view.findPatient(item.id);
      if (node) {
        view.setPatientState(node, "pending");
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
      view.showTyping();
      return postChat(item).then(function (result) {
        view.hideTyping();
        if (result.sent) {
          removeFromOutbox(item.id);
          view.clearNotice();
          var node = item.hidden ? null : view.findPatient(item.id);
          if (result.repeated) {
            // The server had this message already (an earlier attempt got through but its
            // answer was lost): the history is the truth, render it again.
            return loadHistory().then(function (ok) {
              if (!ok) {
                var again = item.hidden ? null : view.findPatient(item.id);
                if (again) {
                  view.setPatientState(again, "sent");
                  again.removeAttribute("data-client-id");
                }
                view.renderReplies(again, result.messages);
              }
              return next();
            });
          }
          if (!node && !item.hidden) {
            // Queued by another tab of this patient: show it before its replies.
            node = view.patientMessage(item.display || item.text, item.id, "sent");
            view.insertPatient(node);
          }
          if (node) {
            view.setPatientState(node, "sent");
            node.removeAttribute("data-client-id");
            state.deliveredTurns += 1;
          }
          view.renderReplies(node, result.messages);
          return next();
        }
        if (result.retry) {
          markUnsent();
          if (result.slowDown) {
            view.showSlowDown();
          } else {
            view.showNotice(hasVisiblePending());
          }
          return null;
        }
        // Refused by the server (e.g. too long): it would never go through; say so, keep the text.
        removeFromOutbox(item.id);
        var refused = item.hidden ? null : view.findPatient(item.id);
        if (refused) {
          view.setPatientState(refused, "failed", result.error || C.t("refused_reason"));
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
        view.hideTyping();
        markUnsent();
      })
      .finally(function () {
        state.flushing = false;
      });
  }

  function send(text, display, hidden) {
    var item = { id: newClientId(), text: text, display: display || text, hidden: !!hidden, at: Date.now() };
    state.sent += 1;
    addToOutbox(item, false);
    if (!hidden) {
      view.appendToLog(view.patientMessage(item.display, item.id, "sending"));
      view.scrollToEnd();
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
    view.scrollToEnd();
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

  // Once the conversation is with the clinic team (a handoff), the history is polled while the
  // panel is open, so a staff member's reply appears without a reload. Never while a message
  // is on its way: the reply to it comes with the POST.
  function withStaff() {
    return !!log.querySelector(
      '[data-kind="handoff"], [data-kind="contact"], [data-kind="human"], [data-kind="staff"]'
    );
  }

  function pollForStaff() {
    if (document.hidden || !isOpen() || !state.historyLoaded || state.flushing) {
      return;
    }
    if (state.historyLoading || getOutbox().length || !withStaff()) {
      return;
    }
    var sentBefore = state.sent; // a message sent meanwhile makes this answer stale
    request(historyUrl, { headers: { Accept: "application/json" } })
      .then(function (result) {
        var turns = result.data && result.data.messages;
        if (!result.ok || !Array.isArray(turns) || state.flushing || getOutbox().length) {
          return;
        }
        if (state.sent !== sentBefore) {
          return;
        }
        if (turns.length !== state.deliveredTurns) {
          view.renderAll(turns);
        }
      })
      .catch(function () {
        /* offline for a moment: the next tick tries again */
      });
  }

  window.addEventListener("online", retry);
  window.setInterval(pollForStaff, POLL_MS);
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
