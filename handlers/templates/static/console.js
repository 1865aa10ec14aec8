// Staff console: live updates by server-sent events. Everything the server sends is inserted with
// textContent, never as HTML.
(function () {
  "use strict";
  var body = document.body;
  var live = body.getAttribute("data-live");
  var csrfMeta = document.querySelector('meta[name="csrf"]');

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
        var p = el("td"); p.appendChild(el("span", "pill prio-" + r.priority, r.priority)); tr.appendChild(p);
        tr.appendChild(el("td", "cust", r.customer));
        tr.appendChild(el("td", null, r.reason));
        tr.appendChild(el("td", null, r.category));
        tr.appendChild(el("td", null, r.lang));
        var w = el("td", null, r.waiting); w.title = r.createdAt; tr.appendChild(w);
        var s = el("td"); s.appendChild(el("span", "pill st-" + r.status, r.status));
        if (r.assignee) { s.appendChild(document.createTextNode(" ")); s.appendChild(el("small", null, r.assignee)); }
        tr.appendChild(s);
        var a = el("a", "button", "Open"); a.href = "/console/chats/" + encodeURIComponent(r.id);
        var t = el("td"); t.appendChild(a); tr.appendChild(t);
        tb.appendChild(tr);
      });
      var empty = document.getElementById("queue-empty");
      if (empty) empty.hidden = (d.rows || []).length > 0;
    });
  }

  var layout = document.querySelector("[data-chat]");
  function refreshChat() {
    if (!layout) return;
    var id = layout.getAttribute("data-chat");
    getJSON("/console/api/chats/" + encodeURIComponent(id), function (d) {
      if (d.status !== layout.getAttribute("data-status")) {
        // Claimed, handed back or closed (perhaps by someone else): the actions change.
        window.location.replace("/console/chats/" + encodeURIComponent(id));
        return;
      }
      var log = document.getElementById("log");
      var atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
      log.replaceChildren();
      (d.lines || []).forEach(function (l) {
        var li = el("li", "msg role-" + l.role);
        li.setAttribute("data-id", l.id);
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

  if (live && window.EventSource) {
    var es = new EventSource("/console/events");
    es.onopen = function () { body.classList.add("connected"); };
    es.onerror = function () { body.classList.remove("connected"); };
    es.addEventListener("queue", function () { if (live === "queue") refreshQueue(); });
    es.addEventListener("chat", function (ev) {
      if (live === "chat" && layout && ev.data === layout.getAttribute("data-chat")) refreshChat();
    });
  }
  void csrfMeta;
})();
