// LINE simulator chat page. Every piece of message content is inserted as
// text (textContent) or through the Flex renderer, which does the same.
"use strict";
(function () {
  const panes = document.getElementById("panes");
  const tpl = document.getElementById("pane-tpl");
  const conn = document.getElementById("conn");
  const customers = new Map(); // userId -> {c, root, log, chips, input, send, lang, block, attach, file, sample}
  const seen = new Set();      // entry ids already shown
  const metas = new Map();     // entry id -> meta element (for webhook status)
  let ready = false;
  let maxImageBytes = 25 * 1024 * 1024; // the server's figure arrives with "ready"

  function el(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text != null) n.textContent = text;
    return n;
  }

  async function post(path, body) {
    try {
      const r = await fetch("api/" + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      if (!r.ok) console.warn(path, r.status, await r.text());
      return r;
    } catch (e) { console.warn(path, e); return null; }
  }

  function pane(c) {
    let p = customers.get(c.userId);
    if (!p) {
      const root = tpl.content.firstElementChild.cloneNode(true);
      p = { c: c, root: root, log: root.querySelector(".log"), chips: root.querySelector(".chips"),
        input: root.querySelector(".text"), send: root.querySelector(".send"),
        lang: root.querySelector(".lang"), block: root.querySelector(".block"),
        attach: root.querySelector(".attach"), file: root.querySelector(".file"), sample: root.querySelector(".sample") };
      root.dataset.userId = c.userId;
      root.querySelector("form").addEventListener("submit", function (ev) {
        ev.preventDefault();
        const t = p.input.value;
        if (!t.trim() || p.c.blocked) return;
        p.input.value = "";
        post("text", { userId: p.c.userId, text: t });
      });
      p.lang.addEventListener("change", function () { post("profile", { userId: p.c.userId, language: p.lang.value }); });
      p.block.addEventListener("click", function () { post("follow", { userId: p.c.userId, follow: !!p.c.blocked }); });
      p.attach.addEventListener("click", function () { if (!p.c.blocked) p.file.click(); });
      p.file.addEventListener("change", function () {
        const f = p.file.files && p.file.files[0];
        p.file.value = ""; // the same file can be chosen again
        if (f && !p.c.blocked) sendFile(p, f);
      });
      p.sample.addEventListener("click", function () { if (!p.c.blocked) post("sample-id", { userId: p.c.userId }); });
      customers.set(c.userId, p);
      panes.appendChild(root);
    }
    p.c = c;
    p.root.querySelector(".name").textContent = c.displayName;
    p.root.querySelector(".uid").textContent = c.userId;
    p.lang.value = c.language === "en" ? "en" : "ja";
    p.block.textContent = c.blocked ? "ブロック解除" : "ブロック";
    p.block.classList.toggle("blocked", !!c.blocked);
    p.input.disabled = p.send.disabled = p.attach.disabled = p.sample.disabled = !!c.blocked;
    p.input.placeholder = c.blocked ? "ブロック中" : "メッセージを入力";
    return p;
  }

  function clock(ms) {
    const d = new Date(ms);
    return String(d.getHours()).padStart(2, "0") + ":" + String(d.getMinutes()).padStart(2, "0");
  }

  function scroll(p) { p.log.scrollTop = p.log.scrollHeight; }

  function row(p, who, node, metaText) {
    const r = el("div", "row " + who);
    const meta = el("span", "meta", metaText);
    if (who === "user") { r.appendChild(meta); r.appendChild(node); } else { r.appendChild(node); r.appendChild(meta); }
    p.log.appendChild(r);
    return meta;
  }

  function sys(p, text) { p.log.appendChild(el("div", "sys", text)); }

  function size(n) {
    if (n >= 1048576) return (n / 1048576).toFixed(n % 1048576 ? 1 : 0) + " MB";
    if (n >= 1024) return Math.floor(n / 1024) + " KB";
    return n + " B";
  }

  // sendFile sends any file the customer picked as an image message; the bot judges what it is.
  async function sendFile(p, f) {
    const say = function (t) { sys(p, t); scroll(p); };
    if (f.size > maxImageBytes) return say("ファイルが大きすぎます（" + size(maxImageBytes) + " まで）: " + f.name + " " + size(f.size));
    if (f.size === 0) return say("空のファイルは送れません: " + f.name);
    const q = "?userId=" + encodeURIComponent(p.c.userId) + "&name=" + encodeURIComponent(f.name);
    try {
      // The body is the file itself; its Content-Type is the file's type when the browser knows one.
      const r = await fetch("api/image" + q, { method: "POST", body: f });
      if (r.ok) return;
      let body = {};
      try { body = await r.json(); } catch (e) { /* not JSON */ }
      if (!body.messageId) say("画像を送れませんでした（" + r.status + "）" + (body.error ? ": " + String(body.error) : ""));
    } catch (e) { say("画像を送れませんでした: " + String(e)); }
  }

  // imageBubble shows an image the customer sent, from the simulator's copy of its content; a file that
  // is no image (or does not decode) shows as a file bubble.
  function imageBubble(p, e) {
    const ct = String(e.contentType || "");
    const label = (e.name ? String(e.name) + " · " : "") + ct + " · " + size(e.size || 0);
    const file = function () { return el("div", "bubble filemsg", "ファイル: " + label); };
    if (!ct.startsWith("image/") || !e.messageId) return file();
    const i = el("img", "imgmsg");
    i.alt = label; i.title = label;
    i.addEventListener("error", function () { i.replaceWith(file()); });
    i.addEventListener("load", function () { scroll(p); });
    i.src = "api/content/" + encodeURIComponent(e.messageId);
    return i;
  }

  function doAction(p, a) {
    if (!a || typeof a !== "object") return;
    switch (a.type) {
      case "message":
        if (a.text) post("text", { userId: p.c.userId, text: String(a.text) });
        break;
      case "postback":
      case "datetimepicker":
        post("postback", { userId: p.c.userId, data: String(a.data || ""), displayText: String(a.displayText || a.label || "") });
        break;
      case "uri": {
        const u = window.LineFlex.safeURL(a.uri);
        if (u && !u.startsWith("data:")) window.open(u, "_blank", "noopener,noreferrer");
        else sys(p, "開けないURI: " + String(a.uri));
        break;
      }
      case "clipboard":
        if (navigator.clipboard) navigator.clipboard.writeText(String(a.clipboardText || ""));
        sys(p, "コピーしました");
        break;
      default:
        sys(p, "シミュレーター未対応のアクション: " + String(a.type));
    }
    scroll(p);
  }

  function template(p, t) {
    const act = function (a) { const b = el("button", null, String((a && a.label) || "")); b.type = "button"; b.addEventListener("click", function () { doAction(p, a); }); return b; };
    const card = function (col, kind) {
      const n = el("div", "tpl " + kind);
      const img = window.LineFlex.safeURL(col.thumbnailImageUrl || col.imageUrl);
      if (img) { const i = el("img", "thumb"); i.src = img; i.alt = ""; n.appendChild(i); }
      if (col.title) n.appendChild(el("div", "title", String(col.title)));
      if (col.text) n.appendChild(el("div", "body", String(col.text)));
      const acts = el("div", "acts");
      (Array.isArray(col.actions) ? col.actions : col.action ? [col.action] : []).forEach(function (a) { acts.appendChild(act(a)); });
      n.appendChild(acts);
      if (col.defaultAction) { n.classList.add("clickable"); n.addEventListener("click", function (ev) { if (ev.target === n) doAction(p, col.defaultAction); }); }
      return n;
    };
    if (!t || typeof t !== "object") return el("div", "bubble unknown", "[template]");
    if (t.type === "carousel" || t.type === "image_carousel") {
      const n = el("div", "carousel");
      (Array.isArray(t.columns) ? t.columns : []).forEach(function (c) { n.appendChild(card(c || {}, t.type)); });
      return n;
    }
    return card(t, t.type === "confirm" ? "confirm" : "buttons");
  }

  function message(p, m) {
    switch (m && m.type) {
      case "text":
      case "textV2":
        return el("div", "bubble", String(m.text || ""));
      case "image": {
        const u = window.LineFlex.safeURL(m.previewImageUrl || m.originalContentUrl);
        const i = el("img", "imgmsg"); if (u) i.src = u; i.alt = "画像"; return i;
      }
      case "sticker": return el("div", "bubble", "[スタンプ " + String(m.packageId) + "/" + String(m.stickerId) + "]");
      case "flex": return window.LineFlex.render(m.contents, function (a) { doAction(p, a); });
      case "template": return template(p, m.template);
      case "location": return el("div", "bubble", "📍 " + String(m.title || "") + "\n" + String(m.address || ""));
      default: return el("div", "bubble unknown", "[" + String(m && m.type) + "]");
    }
  }

  function chips(p, qr) {
    p.chips.replaceChildren();
    const items = qr && Array.isArray(qr.items) ? qr.items : [];
    for (const it of items) {
      const a = it && it.action;
      if (!a) continue;
      const b = el("button", "chip", String(a.label || a.text || a.type));
      b.type = "button";
      b.addEventListener("click", function () { p.chips.replaceChildren(); doAction(p, a); });
      p.chips.appendChild(b);
    }
  }

  function entry(e) {
    if (!e || !e.id || seen.has(e.id)) return;
    const p = customers.get(e.userId);
    if (!p) return;
    seen.add(e.id);
    if (e.from === "user") {
      p.chips.replaceChildren();
      let meta = null;
      if (e.kind === "follow") sys(p, "友だち追加 / ブロック解除");
      else if (e.kind === "unfollow") sys(p, "ブロックしました");
      else if (e.kind === "image" || e.text) {
        meta = row(p, "user", e.kind === "image" ? imageBubble(p, e) : el("div", "bubble", e.text), clock(e.at));
        if (e.messageId) { meta.dataset.messageId = e.messageId; if (e.read) markRead(meta); }
      }
      else sys(p, "postback: " + String(e.data || ""));
      if (!meta) { meta = el("span", "meta"); p.log.lastElementChild.appendChild(meta); }
      metas.set(e.id, meta);
      if (e.status) status(e);
    } else {
      stopLoading(p);
      p.lastBotAt = Math.max(p.lastBotAt || 0, e.at || 0);
      const msgs = Array.isArray(e.messages) ? e.messages : [];
      msgs.forEach(function (m, i) {
        row(p, "bot", message(p, m), i === msgs.length - 1 ? clock(e.at) + " " + e.kind : "");
      });
      const last = msgs[msgs.length - 1];
      if (last && last.quickReply) chips(p, last.quickReply);
    }
    scroll(p);
  }

  function markRead(meta) {
    if (meta.querySelector(".read")) return;
    meta.prepend(el("span", "read", "既読 "));
  }

  function stopLoading(p) {
    if (p.loading) { p.loading.remove(); p.loading = null; clearTimeout(p.loadingTimer); }
  }

  function activity(a) {
    const p = customers.get(a.userId);
    if (!p) return;
    if (a.kind === "read") {
      for (const m of p.log.querySelectorAll(".meta")) if (m.dataset.messageId === a.messageId) markRead(m);
    } else if (a.kind === "loading") {
      if (a.at && p.lastBotAt && a.at <= p.lastBotAt) return; // the answer is already here
      stopLoading(p);
      p.loading = el("div", "row bot");
      p.loading.appendChild(el("div", "bubble typing", "• • •"));
      p.log.appendChild(p.loading);
      p.loadingTimer = setTimeout(function () { stopLoading(p); }, (a.seconds || 20) * 1000);
      scroll(p);
    }
  }

  function status(s) {
    const meta = metas.get(s.id);
    if (!meta) return;
    const ok = s.status === 200;
    let st = meta.querySelector(".st");
    if (!st) { st = el("span", "st"); meta.appendChild(st); }
    st.textContent = ok ? "" : " webhook " + String(s.status || s.error || "error");
    meta.classList.toggle("bad", !ok);
    meta.title = ok ? "webhook 200" : String(s.error || "");
  }

  function connect() {
    const es = new EventSource("api/stream");
    es.addEventListener("open", function () { conn.textContent = "接続済み"; });
    es.addEventListener("error", function () { conn.textContent = "再接続中…"; });
    es.addEventListener("customer", function (ev) { pane(JSON.parse(ev.data)); });
    es.addEventListener("entry", function (ev) { entry(JSON.parse(ev.data)); });
    es.addEventListener("status", function (ev) { status(JSON.parse(ev.data)); });
    es.addEventListener("activity", function (ev) { activity(JSON.parse(ev.data)); });
    es.addEventListener("ready", function (ev) {
      try { const s = JSON.parse(ev.data); if (s.maxImageBytes > 0) maxImageBytes = s.maxImageBytes; } catch (e) { /* keep the default */ }
      if (!ready && customers.size === 0) post("customers", { language: addLang.value });
      ready = true;
    });
  }

  // A customer's profile language is what the bot reads when it first hears from them (at the follow
  // that adding sends), so the language of a new customer is chosen before adding it.
  const addLang = document.getElementById("add-lang");
  document.getElementById("add").addEventListener("click", function () { post("customers", { language: addLang.value }); });
  connect();
})();
