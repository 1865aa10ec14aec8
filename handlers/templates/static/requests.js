// Pages of personal-data requests: the queue refreshes itself when a request changes (server-sent
// events from /console/api/requests/events; rows from /console/api/requests, already in the staff
// member's language), and a request's page says when someone else changed it. Everything the server
// sends is inserted with textContent, never as HTML.
(function () {
  "use strict";
  var body = document.body;
  var table = document.getElementById("requests");
  var page = document.querySelector("[data-request]");
  if ((!table && !page) || !window.EventSource) return;
  var words = {};
  try { words = JSON.parse(body.getAttribute("data-i18n") || "{}"); } catch (e) { words = {}; }
  function word(key) { return words[key] || key; }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function refreshQueue() {
    fetch("/console/api/requests" + (table.getAttribute("data-query") || ""),
      { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (r.ok) return r.json(); throw new Error(r.status); })
      .then(function (d) {
        var tb = table.querySelector("tbody");
        tb.replaceChildren();
        (d.rows || []).forEach(function (r) {
          var tr = el("tr", r.overdue ? "overdue" : (r.urgent ? "urgent" : ""));
          tr.setAttribute("data-ref", r.ref);
          var ref = el("td", "nowrap"), a = el("a"); a.href = r.link; a.appendChild(el("code", null, r.ref)); ref.appendChild(a); tr.appendChild(ref);
          var k = el("td"); (r.kinds || []).forEach(function (n) { k.appendChild(el("span", "kind", n)); }); tr.appendChild(k);
          tr.appendChild(el("td", null, r.requester));
          var s = el("td"); s.appendChild(el("span", "pill rst-" + r.status, r.statusLabel)); tr.appendChild(s);
          tr.appendChild(el("td", "nowrap", r.received));
          tr.appendChild(el("td", "nowrap", r.due));
          tr.appendChild(el("td", "nowrap left", r.left));
          var o = el("td"), b = el("a", "button", word("open")); b.href = r.link; o.appendChild(b); tr.appendChild(o);
          tb.appendChild(tr);
        });
        var empty = document.getElementById("requests-empty");
        if (empty) empty.hidden = (d.rows || []).length > 0;
      })
      .catch(function () {});
  }

  // While a form of the page is being sent, its own answer shows the change: no notice for it.
  var submitting = false;
  document.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("pageshow", function () { submitting = false; });

  var dot = document.querySelector(".live-dot");
  function connected(on) {
    body.classList.toggle("connected", on);
    if (dot) dot.textContent = word(on ? "live" : "offline");
  }

  var timer = null;
  var es = new EventSource("/console/api/requests/events");
  es.onopen = function () {
    connected(true);
    if (table) refreshQueue(); // catch up with what changed before the stream opened
  };
  es.onerror = function () { connected(false); };
  es.addEventListener("request", function (ev) {
    if (table) {
      clearTimeout(timer);
      timer = setTimeout(refreshQueue, 200);
    }
    if (page && !submitting && ev.data === page.getAttribute("data-request")) {
      var note = document.getElementById("request-changed");
      if (note) note.hidden = false;
    }
  });
})();
