/* Sportello desk: completion of @mentions in a note box. A textarea with
   data-mentions="username:Full name|..." offers the agents whose username or name starts
   with what follows the "@" just typed; arrows move, Enter or Tab or a click inserts
   "@username ", Escape closes. The server decides who is notified (desk.mentions).
   AGPL-3.0-or-later. */
(function () {
  "use strict";

  var BEFORE = /(?:^|[^\w@.+-])@([\w.+-]*)$/;

  function agents(area) {
    return (area.getAttribute("data-mentions") || "").split("|").filter(Boolean).map(function (item) {
      var cut = item.indexOf(":");
      return { username: item.slice(0, cut), name: item.slice(cut + 1) };
    });
  }

  function bind(area) {
    if (area.dataset.mentionsBound) { return; }
    area.dataset.mentionsBound = "1";
    var everyone = agents(area);
    var box = document.createElement("ul");
    box.className = "mention-pick";
    box.id = area.id + "-mentions";
    box.setAttribute("role", "listbox");
    box.hidden = true;
    area.parentNode.insertBefore(box, area.nextSibling);
    area.setAttribute("aria-controls", box.id);
    area.setAttribute("aria-autocomplete", "list");
    var chosen = 0, shown = [];

    function close() { box.hidden = true; shown = []; area.removeAttribute("aria-activedescendant"); }

    function partial() {
      var m = BEFORE.exec(area.value.slice(0, area.selectionStart));
      return m ? m[1].toLowerCase() : null;
    }

    function render() {
      box.textContent = "";
      shown.forEach(function (agent, i) {
        var li = document.createElement("li");
        li.id = box.id + "-" + i;
        li.setAttribute("role", "option");
        li.setAttribute("aria-selected", i === chosen ? "true" : "false");
        li.textContent = "@" + agent.username + (agent.name ? " · " + agent.name : "");
        li.addEventListener("mousedown", function (ev) { ev.preventDefault(); insert(agent); });
        box.appendChild(li);
      });
      box.hidden = !shown.length;
      if (shown.length) { area.setAttribute("aria-activedescendant", box.id + "-" + chosen); }
    }

    function insert(agent) {
      var caret = area.selectionStart;
      var head = area.value.slice(0, caret).replace(/@[\w.+-]*$/, "@" + agent.username + " ");
      area.value = head + area.value.slice(caret);
      area.selectionStart = area.selectionEnd = head.length;
      close();
      area.dispatchEvent(new Event("input", { bubbles: true }));  // the draft keeps it
      area.focus();
    }

    area.addEventListener("input", function () {
      var typed = partial();
      if (typed === null) { close(); return; }
      shown = everyone.filter(function (a) {
        return a.username.toLowerCase().indexOf(typed) === 0 ||
          a.name.toLowerCase().split(/\s+/).some(function (w) { return w.indexOf(typed) === 0; });
      }).slice(0, 6);
      chosen = 0;
      render();
    });
    area.addEventListener("keydown", function (ev) {
      if (box.hidden || !shown.length) { return; }
      if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
        ev.preventDefault();
        chosen = (chosen + (ev.key === "ArrowDown" ? 1 : shown.length - 1)) % shown.length;
        render();
      } else if ((ev.key === "Enter" && !ev.ctrlKey && !ev.metaKey) || ev.key === "Tab") {
        ev.preventDefault();
        insert(shown[chosen]);
      } else if (ev.key === "Escape") {
        ev.preventDefault();
        close();
      }
    });
    area.addEventListener("blur", close);
  }

  function all() { document.querySelectorAll("textarea[data-mentions]").forEach(bind); }
  document.addEventListener("DOMContentLoaded", all);
  document.addEventListener("htmx:afterSwap", all);
})();
