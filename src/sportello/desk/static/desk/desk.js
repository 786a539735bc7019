/* Sportello desk: running timers, drafts kept across reloads, keyboard shortcuts.
   No inline scripts anywhere (the CSP allows only 'self'); the server holds the truth:
   a timer shows the time since the start stored on the server. AGPL-3.0-or-later. */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-timer-start]").forEach(function (el) {
      var start = Date.parse(el.getAttribute("data-timer-start"));
      if (isNaN(start)) { return; }
      var s = Math.max(0, Math.floor((now - start) / 1000));
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      el.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(sec);
    });
  }
  setInterval(tick, 1000);
  document.addEventListener("htmx:afterSwap", tick);
  document.addEventListener("DOMContentLoaded", tick);

  // Drafts: what an agent typed survives a reload, until it is sent.
  function drafts() {
    document.querySelectorAll("form[data-draft]").forEach(function (form) {
      var key = "sportello-draft-" + form.getAttribute("data-draft");
      var area = form.querySelector("textarea");
      if (!area || area.dataset.draftBound) { return; }
      area.dataset.draftBound = "1";
      // What the ticket looked like when the draft began: the server compares it at send.
      var seen = form.querySelector("input[name=seen]");
      var confirmed = form.querySelector("input[name=confirm]");
      try {
        if (!area.value && localStorage.getItem(key)) {
          area.value = localStorage.getItem(key);
          if (seen && !confirmed && localStorage.getItem(key + "-seen")) {
            seen.value = localStorage.getItem(key + "-seen");
          }
        }
      } catch (e) { /* storage disabled: no drafts */ }
      var beat = form.getAttribute("data-replying");
      area.addEventListener("input", function () {
        try {
          localStorage.setItem(key, area.value);
          if (seen && !localStorage.getItem(key + "-seen")) { localStorage.setItem(key + "-seen", seen.value); }
        } catch (e) { /* ignore */ }
        var flag = beat && document.querySelector(beat + " input[name=replying]");
        var now = area.value ? "1" : "0";
        if (flag && flag.value !== now) {
          flag.value = now;
          // Tell the others at once that a reply is being written, not at the next beat.
          if (window.htmx) { window.htmx.trigger(flag.form, "beat"); }
        }
      });
      form.addEventListener("submit", function () {
        try { localStorage.removeItem(key); localStorage.removeItem(key + "-seen"); } catch (e) { /* ignore */ }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", drafts);

  // Keyboard: single keys outside text fields; Ctrl+Enter sends the form being typed.
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  var current = -1;
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-row]")); }
  function move(step) {
    var list = rows();
    if (!list.length) { return; }
    current = Math.min(list.length - 1, Math.max(0, current + step));
    list.forEach(function (r, i) { r.classList.toggle("current", i === current); });
    var link = list[current].querySelector("a.subject");
    if (link) { link.focus(); }
  }
  function help() {
    var box = document.getElementById("shortcuts");
    if (box) { box.remove(); return; }
    box = document.createElement("div");
    box.id = "shortcuts";
    box.className = "shortcuts";
    box.setAttribute("role", "dialog");
    var lines = (document.body.getAttribute("data-shortcuts-help") || "").split("|");
    var list = document.createElement("ul");
    lines.forEach(function (t) { var li = document.createElement("li"); li.textContent = t; list.appendChild(li); });
    box.appendChild(list);
    document.body.appendChild(box);
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey) && typing(ev.target) && ev.target.form) {
      ev.preventDefault();
      ev.target.form.requestSubmit();
      return;
    }
    if (document.body.getAttribute("data-shortcuts") !== "on") { return; }
    if (typing(ev.target) || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var target = null;
    switch (ev.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "r": target = document.querySelector("[data-key=r]"); break;
      case "n": target = document.querySelector("[data-key=n]"); break;
      case "a": target = document.querySelector("[data-key=a]"); if (target) { target.click(); } return;
      case "c": window.location.href = document.body.getAttribute("data-call-url"); return;
      case "?": help(); return;
      default: return;
    }
    if (target) { ev.preventDefault(); target.focus(); }
  });
})();
