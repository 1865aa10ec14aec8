// Staff console: live updates by server-sent events. Everything the server sends is inserted with
// textContent, never as HTML. The words this script shows come from the page (data-i18n on <body>,
// JSON), in the staff member's language; the server sends the rest already in that language.
(function () {
  "use strict";
  var body = document.body;
  var live = body.getAttribute("data-live");
  var words = {};
  try { words = JSON.parse(body.getAttribute("data-i18n") || "{}"); } catch (e) { words = {}; }
  function word(key) { return words[key] || key; }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  function getJSON(url, then) {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (r.ok) return r.json(); throw new Error(r.status); })
      .then(then)
      .catch(function () {});
  }

  function refreshQueue() {
    getJSON("/console/api/queue", function (d) {
      var tb = document.querySelector("#queue tbody");
      if (!tb) return;
      tb.replaceChildren();
      (d.rows || []).forEach(function (r) {
        var tr = el("tr", "prio-" + r.priority);
        tr.setAttribute("data-id", r.id);
        var p = el("td"); p.appendChild(el("span", "pill prio-" + r.priority, r.priorityLabel)); tr.appendChild(p);
        tr.appendChild(el("td", "cust", r.customer));
        tr.appendChild(el("td", null, r.reason));
        tr.appendChild(el("td", null, r.category));
        tr.appendChild(el("td", null, r.lang));
        var w = el("td", null, r.waiting); w.title = r.createdAt; tr.appendChild(w);
        var s = el("td"); s.appendChild(el("span", "pill st-" + r.status, r.statusLabel));
        if (r.assignee) { s.appendChild(document.createTextNode(" ")); s.appendChild(el("small", null, r.assignee)); }
        tr.appendChild(s);
        var a = el("a", "button", word("open")); a.href = "/console/chats/" + encodeURIComponent(r.id);
        var t = el("td"); t.appendChild(a); tr.appendChild(t);
        tb.appendChild(tr);
      });
      var empty = document.getElementById("queue-empty");
      if (empty) empty.hidden = (d.rows || []).length > 0;
    });
  }

  // While one of the page's forms is being submitted, a live update must not reload the page: the
  // reload would cancel the submission (the browser drops the request), and the form's own answer
  // shows the new state anyway.
  var submitting = false;
  document.addEventListener("submit", function () { submitting = true; });
  window.addEventListener("pageshow", function () { submitting = false; });

  var layout = document.querySelector("[data-chat]");
  function refreshChat() {
    if (!layout) return;
    var id = layout.getAttribute("data-chat");
    getJSON("/console/api/chats/" + encodeURIComponent(id), function (d) {
      if (d.status !== layout.getAttribute("data-status")) {
        // Claimed, handed back or closed (perhaps by someone else): the actions change.
        if (!submitting) window.location.replace("/console/chats/" + encodeURIComponent(id));
        return;
      }
      var log = document.getElementById("log");
      var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
      log.replaceChildren();
      (d.lines || []).forEach(function (l) {
        var li = el("li", "msg role-" + l.role);
        li.setAttribute("data-id", l.id);
        if (l.title) li.title = l.title;
        var meta = el("div", "meta");
        meta.appendChild(el("span", "who", l.who));
        if (l.extra) meta.appendChild(el("span", "extra", l.extra));
        meta.appendChild(el("time", null, l.at));
        li.appendChild(meta);
        li.appendChild(el("div", "text", l.text));
        log.appendChild(li);
      });
      if (atBottom) log.scrollTop = log.scrollHeight;
    });
  }

  var log = document.getElementById("log");
  if (log) log.scrollTop = log.scrollHeight;

  var canned = document.getElementById("canned");
  if (canned) {
    canned.addEventListener("change", function () {
      var o = canned.options[canned.selectedIndex];
      var text = o && o.getAttribute("data-text");
      if (text) document.getElementById("reply-text").value = text;
    });
  }

  var dot = document.querySelector(".live-dot");
  function connected(on) {
    body.classList.toggle("connected", on);
    if (dot) dot.textContent = word(on ? "live" : "offline");
  }

  if (live && window.EventSource) {
    var es = new EventSource("/console/events");
    // On every (re)connection, catch up once: a notice sent between the page's rendering and the
    // stream's opening (e.g. the customer told of a claim just made) reached no one.
    es.onopen = function () {
      connected(true);
      if (live === "queue") refreshQueue();
      if (live === "chat") refreshChat();
    };
    es.onerror = function () { connected(false); };
    es.addEventListener("queue", function () { if (live === "queue") refreshQueue(); });
    es.addEventListener("chat", function (ev) {
      if (live === "chat" && layout && ev.data === layout.getAttribute("data-chat")) refreshChat();
    });
  }
})();
