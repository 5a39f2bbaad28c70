// Staff queue: poll for new escalations every 10 s and redraw the table, without a reload.
// Rendered with textContent only: nothing from the server is ever parsed as HTML.
(function () {
  "use strict";
  var table = document.querySelector("table[data-poll]");
  if (!table) return;
  var body = document.getElementById("queue-rows");
  var counter = document.getElementById("urgent-open");

  function cell(row, text) {
    var td = document.createElement("td");
    if (text instanceof Node) td.appendChild(text); else td.textContent = text;
    row.appendChild(td);
  }

  function draw(data) {
    counter.textContent = String(data.urgent_open);
    counter.parentElement.classList.toggle("has-urgent", data.urgent_open > 0);
    var rows = document.createDocumentFragment();
    data.escalations.forEach(function (e) {
      var tr = document.createElement("tr");
      tr.className = e.priority;
      var link = document.createElement("a");
      link.href = e.url;
      link.textContent = "#" + e.id;
      cell(tr, link);
      var badge = document.createElement("span");
      badge.className = "badge " + e.priority;
      badge.textContent = e.priority;
      cell(tr, badge);
      cell(tr, e.reason);
      cell(tr, e.status);
      cell(tr, e.created_at);
      cell(tr, e.claimed_by || "");
      cell(tr, e.contact || "");
      tr.lastChild.setAttribute("data-testid", "contact");
      rows.appendChild(tr);
    });
    if (!data.escalations.length) {
      var empty = document.createElement("tr");
      var td = document.createElement("td");
      td.colSpan = 7;
      td.textContent = "No escalations match.";
      empty.appendChild(td);
      rows.appendChild(empty);
    }
    body.replaceChildren(rows);
  }

  function poll() {
    fetch(table.dataset.poll, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) { window.location.reload(); return null; }
        return r.ok ? r.json() : null;
      })
      .then(function (data) { if (data) draw(data); })
      .catch(function () { /* offline for a moment: try again at the next tick */ });
  }

  setInterval(poll, 10000);
})();
