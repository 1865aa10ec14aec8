// Flex Message renderer for the LINE simulator: builds DOM nodes from a Flex
// container (bubble or carousel). Message content is only ever put into the
// page as text nodes, attributes checked against allow-lists, or CSS values
// matching strict patterns: never as HTML.
"use strict";
(function () {
  const SIZES = { xxs: 11, xs: 13, sm: 14, md: 16, lg: 19, xl: 22, xxl: 29, "3xl": 35, "4xl": 48, "5xl": 74 };
  const SPACES = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };
  const IMG_SIZES = { xxs: 40, xs: 60, sm: 80, md: 100, lg: 120, xl: 140, xxl: 160, "3xl": 180, "4xl": 200, "5xl": 240 };
  const BUBBLE_W = { nano: 120, micro: 160, deca: 220, hecto: 241, kilo: 260, mega: 300, giga: 386 };

  function color(v) { return typeof v === "string" && /^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/.test(v) ? v : null; }
  function len(v, table) {
    if (typeof v !== "string") return null;
    if (table && Object.prototype.hasOwnProperty.call(table, v)) return table[v] + "px";
    return /^\d+(\.\d+)?(px|%)$/.test(v) ? v : null;
  }
  function safeURL(v) {
    if (typeof v !== "string") return null;
    try {
      const u = new URL(v, location.href);
      return u.protocol === "https:" || u.protocol === "http:" || u.protocol === "data:" ? u.href : null;
    } catch (e) { return null; }
  }
  function el(tag, cls) { const n = document.createElement(tag); if (cls) n.className = cls; return n; }
  function str(v) { return typeof v === "string" ? v : v == null ? "" : String(v); }

  function applyCommon(n, c, parentLayout, first) {
    const m = len(c.margin, SPACES);
    if (m && !first) {
      if (parentLayout === "vertical") n.style.marginTop = m; else n.style.marginLeft = m;
    }
    const horiz = parentLayout === "horizontal" || parentLayout === "baseline";
    const f = Number.isInteger(c.flex) ? c.flex : (horiz ? 1 : 0);
    n.style.flex = f > 0 ? f + " 1 0px" : "0 0 auto";
    if (c.position === "absolute") {
      n.style.position = "absolute";
      for (const k of ["offsetTop", "offsetBottom", "offsetStart", "offsetEnd"]) {
        const v = len(c[k], SPACES);
        if (v) n.style[{ offsetTop: "top", offsetBottom: "bottom", offsetStart: "left", offsetEnd: "right" }[k]] = v;
      }
    }
    const g = { top: "flex-start", center: "center", bottom: "flex-end" }[c.gravity];
    if (g && !horiz) n.style.alignSelf = "stretch";
    if (g && horiz) n.style.alignSelf = g;
  }

  function clickable(n, action, onAction) {
    if (!action || typeof action !== "object") return;
    n.classList.add("clickable");
    n.addEventListener("click", function (ev) { ev.stopPropagation(); onAction(action); });
  }

  function box(c, onAction) {
    const n = el("div", "fx-box");
    const layout = c.layout === "horizontal" || c.layout === "baseline" ? c.layout : "vertical";
    n.style.flexDirection = layout === "vertical" ? "column" : "row";
    if (layout === "baseline") n.style.alignItems = "baseline";
    const bg = color(c.backgroundColor); if (bg) n.style.backgroundColor = bg;
    const bc = color(c.borderColor); const bw = len(c.borderWidth, { none: 0, light: 0.5, normal: 1, medium: 2, "semi-bold": 3, bold: 4 });
    if (bc && bw) n.style.border = bw + " solid " + bc;
    const cr = len(c.cornerRadius, SPACES); if (cr) n.style.borderRadius = cr;
    for (const [k, css] of [["paddingAll", "padding"], ["paddingTop", "paddingTop"], ["paddingBottom", "paddingBottom"],
      ["paddingStart", "paddingLeft"], ["paddingEnd", "paddingRight"], ["width", "width"], ["height", "height"],
      ["maxWidth", "maxWidth"], ["maxHeight", "maxHeight"]]) {
      const v = len(c[k], SPACES); if (v) n.style[css] = v;
    }
    const jc = { "flex-start": 1, "flex-end": 1, center: 1, "space-between": 1, "space-around": 1, "space-evenly": 1 };
    if (jc[c.justifyContent]) n.style.justifyContent = c.justifyContent;
    if ({ "flex-start": 1, "flex-end": 1, center: 1 }[c.alignItems]) n.style.alignItems = c.alignItems;
    n.style.position = "relative";
    const gap = len(c.spacing, SPACES);
    const kids = Array.isArray(c.contents) ? c.contents : [];
    kids.forEach(function (k, i) {
      const child = component(k, layout, i === 0, onAction);
      if (!child) return;
      if (gap && i > 0 && !len(k.margin, SPACES)) {
        if (layout === "vertical") child.style.marginTop = gap; else child.style.marginLeft = gap;
      }
      n.appendChild(child);
    });
    clickable(n, c.action, onAction);
    return n;
  }

  function textStyle(n, c) {
    const s = len(c.size, SIZES); if (s) n.style.fontSize = s;
    if (c.weight === "bold") n.style.fontWeight = "bold";
    if (c.style === "italic") n.style.fontStyle = "italic";
    const col = color(c.color); if (col) n.style.color = col;
    if (c.decoration === "underline" || c.decoration === "line-through") n.style.textDecoration = c.decoration;
  }

  function text(c, onAction) {
    const n = el("div", "fx-text " + (c.wrap ? "wrap" : "nowrap"));
    textStyle(n, c);
    if ({ start: 1, end: 1, center: 1 }[c.align]) n.style.textAlign = c.align === "start" ? "left" : c.align === "end" ? "right" : "center";
    if (c.wrap && Number.isInteger(c.maxLines) && c.maxLines > 0) {
      n.style.display = "-webkit-box"; n.style.webkitLineClamp = String(c.maxLines);
      n.style.webkitBoxOrient = "vertical"; n.style.overflow = "hidden";
    }
    if (Array.isArray(c.contents) && c.contents.length) {
      for (const sp of c.contents) {
        if (!sp || sp.type !== "span") continue;
        const s = el("span"); textStyle(s, sp); s.textContent = str(sp.text); n.appendChild(s);
      }
    } else {
      n.textContent = str(c.text);
    }
    clickable(n, c.action, onAction);
    return n;
  }

  function button(c, onAction) {
    const n = el("button", "fx-button" + (c.height === "sm" ? " sm" : ""));
    n.type = "button";
    const st = c.style === "primary" || c.style === "secondary" ? c.style : "link";
    const col = color(c.color);
    if (st === "primary") { n.style.background = col || "#17c950"; n.style.color = "#fff"; }
    else if (st === "secondary") { n.style.background = col || "#dcdfe5"; n.style.color = "#111"; }
    else { n.style.background = "transparent"; n.style.color = col || "#42659a"; }
    n.textContent = str(c.action && c.action.label);
    clickable(n, c.action, onAction);
    return n;
  }

  function image(c, onAction, cls) {
    const n = el("img", cls || "fx-image");
    const u = safeURL(c.url); if (u) n.src = u;
    n.alt = "";
    const sz = c.size === "full" ? "100%" : len(c.size || "md", IMG_SIZES);
    if (sz) n.style.width = sz;
    if (typeof c.aspectRatio === "string" && /^\d+(\.\d+)?:\d+(\.\d+)?$/.test(c.aspectRatio)) {
      n.style.aspectRatio = c.aspectRatio.replace(":", " / ");
    }
    n.style.objectFit = c.aspectMode === "cover" ? "cover" : "contain";
    const bg = color(c.backgroundColor); if (bg) n.style.backgroundColor = bg;
    if (c.align === "start") n.style.marginRight = "auto";
    else if (c.align === "end") n.style.marginLeft = "auto";
    else { n.style.marginLeft = "auto"; n.style.marginRight = "auto"; }
    clickable(n, c.action, onAction);
    return n;
  }

  function component(c, parentLayout, first, onAction) {
    if (!c || typeof c !== "object") return null;
    let n;
    switch (c.type) {
      case "box": n = box(c, onAction); break;
      case "text": n = text(c, onAction); break;
      case "button": n = button(c, onAction); break;
      case "image": n = image(c, onAction); break;
      case "video": n = image({ url: c.previewUrl, size: "full", aspectRatio: c.aspectRatio }, onAction); break;
      case "icon": {
        n = el("img", "fx-icon"); const u = safeURL(c.url); if (u) n.src = u; n.alt = "";
        const s = len(c.size, SIZES); if (s) { n.style.width = s; n.style.height = s; }
        break;
      }
      case "span": n = el("span"); textStyle(n, c); n.textContent = str(c.text); break;
      case "separator": {
        n = el("hr", "fx-sep"); const col = color(c.color); if (col) n.style.borderTopColor = col;
        if (parentLayout !== "vertical") { n.style.borderTop = "0"; n.style.borderLeft = "1px solid " + (col || "#e6e8eb"); n.style.width = "0"; }
        break;
      }
      case "filler": n = el("div"); n.style.flex = "1 1 0px"; return n;
      case "spacer": n = el("div"); n.style.minHeight = len(c.size || "md", SPACES) || "8px"; break;
      default: n = el("div", "unknown"); n.textContent = "[" + str(c.type) + "]";
    }
    applyCommon(n, c, parentLayout, first);
    return n;
  }

  function bubble(b, onAction) {
    const n = el("div", "fx-bubble");
    n.style.width = (BUBBLE_W[b.size] || BUBBLE_W.mega) + "px";
    n.style.maxWidth = "100%";
    const styles = b.styles && typeof b.styles === "object" ? b.styles : {};
    for (const part of ["header", "hero", "body", "footer"]) {
      const c = b[part];
      if (!c || typeof c !== "object") continue;
      const wrap = el("div", "fx-block" + (part === "hero" ? " fx-hero" : ""));
      const st = styles[part] || {};
      const bg = color(st.backgroundColor); if (bg) wrap.style.backgroundColor = bg;
      if (st.separator) { wrap.style.borderTop = "1px solid " + (color(st.separatorColor) || "#e6e8eb"); }
      const child = part === "hero" && c.type === "image" ? image(c, onAction) : component(c, "vertical", true, onAction);
      if (child) { child.style.flex = "1 1 auto"; wrap.appendChild(child); }
      n.appendChild(wrap);
    }
    clickable(n, b.action, onAction);
    return n;
  }

  // render returns the DOM of a Flex container (bubble or carousel);
  // onAction(action) is called when the customer taps an action.
  function render(contents, onAction) {
    if (contents && contents.type === "carousel") {
      const n = el("div", "carousel");
      (Array.isArray(contents.contents) ? contents.contents : []).forEach(function (b) { n.appendChild(bubble(b || {}, onAction)); });
      return n;
    }
    return bubble(contents || {}, onAction);
  }

  window.LineFlex = { render: render, safeURL: safeURL };
})();
