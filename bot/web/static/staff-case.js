// Escalation page: poll the conversation every 3 s so the patient's new messages (and replies
// sent from another screen) appear without a reload. textContent only: nothing from the server
// is ever parsed as HTML.
(function () {
  "use strict";
  var list = document.querySelector("ol.transcript[data-poll]");
  if (!list) return;
  var shown = list.children.length;

  function para(className, text) {
    var p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    return p;
  }

  function who(turn) {
    if (turn.who === "patient") return "Patient";
    if (turn.kind === "staff") return "Clinic team (" + (turn.staff_name || "") + ")";
    return "Assistant";
  }

  function draw(turns) {
    var items = document.createDocumentFragment();
    turns.forEach(function (turn) {
      var li = document.createElement("li");
      li.className = "turn " + (turn.who === "patient" ? "patient" : "bot") + (turn.kind === "staff" ? " staff" : "");
      li.appendChild(para("who", who(turn) + (turn.at ? " · " + turn.at : "")));
      li.appendChild(para("text", turn.text || ""));
      if (turn.who === "patient" && turn.intent) li.appendChild(para("nlu", "understood as " + turn.intent));
      else if (turn.kind) li.appendChild(para("nlu", turn.kind));
      items.appendChild(li);
    });
    list.replaceChildren(items);
    shown = turns.length;
  }

  function poll() {
    fetch(list.dataset.poll, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (data) {
        if (data && Array.isArray(data.turns) && data.turns.length !== shown) draw(data.turns);
      })
      .catch(function () { /* offline for a moment: try again at the next tick */ });
  }

  setInterval(poll, 3000);
})();
