// The contacts table's chat window and New conversation's client suggestions (a combobox).
(function () {
  "use strict";

  // --- The To field's suggestions: the ARIA combobox pattern (arrows, Enter, Escape). ---
  function combo() { return document.getElementById("id_to"); }
  function listbox() { return document.getElementById("to-suggestions"); }
  function options() {
    var list = listbox();
    return list ? Array.prototype.slice.call(list.querySelectorAll('[role="option"]')) : [];
  }
  function setExpanded(open) {
    var input = combo(), list = listbox();
    if (!input || !list) return;
    list.hidden = !open;
    input.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) input.removeAttribute("aria-activedescendant");
  }
  function activate(option) {
    options().forEach(function (o) { o.setAttribute("aria-selected", o === option ? "true" : "false"); });
    var input = combo();
    if (option) {
      input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }
  function pick(option) {
    if (!option || option.getAttribute("aria-disabled") === "true") return;
    var input = combo();
    input.value = option.getAttribute("data-number");
    var picked = document.getElementById("to-picked");
    if (picked) picked.textContent = "To " + option.getAttribute("data-picked");
    setExpanded(false);
    input.focus();
  }
  document.addEventListener("keydown", function (event) {
    if (event.target !== combo() || !listbox()) return;
    var all = options().filter(function (o) { return o.getAttribute("aria-disabled") !== "true"; });
    var current = all.indexOf(document.querySelector('#to-suggestions [aria-selected="true"]'));
    var open = !listbox().hidden;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!all.length) return;
      event.preventDefault();
      setExpanded(true);
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = current < 0 ? (step > 0 ? 0 : all.length - 1) : (current + step + all.length) % all.length;
      activate(all[next]);
    } else if (event.key === "Enter" && open && current >= 0) {
      event.preventDefault();  // a pick, not the form's submit
      pick(all[current]);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      setExpanded(false);
    }
  });
  document.addEventListener("click", function (event) {
    var option = event.target.closest && event.target.closest('#to-suggestions [role="option"]');
    if (option) { pick(option); return; }
    if (listbox() && event.target !== combo()) setExpanded(false);
  });
  document.addEventListener("input", function (event) {
    if (event.target !== combo()) return;
    var picked = document.getElementById("to-picked");
    if (picked) picked.textContent = "";
  });

  // --- The chat window: opened by a row's Chat into #chat-dock, closed by × or Escape. ---
  var opener = null;  // the Chat button whose window is open, for focus on close
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.hasAttribute && elt.hasAttribute("data-chat-open")) opener = elt;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var target = event.target;
    if (target.id === "to-suggestions" || (target.closest && target.closest("#to-suggestions"))) {
      setExpanded(options().length > 0 && document.activeElement === combo());
      return;
    }
    if (target.id !== "chat-dock" && !(target.matches && target.matches(".chat-window"))) return;
    var thread = document.getElementById("thread");
    if (thread) thread.scrollTop = thread.scrollHeight;
    var box = document.getElementById("composer-body");
    if (box) box.focus();
    else {
      var heading = document.getElementById("chat-heading");
      if (heading) heading.focus();
    }
  });
  function closeChat() {
    var dock = document.getElementById("chat-dock");
    if (!dock || !dock.firstElementChild) return;
    htmx.remove(dock.firstElementChild);  // htmx closes the window's live events with it
    dock.innerHTML = "";
    if (opener && document.body.contains(opener)) opener.focus();
  }
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-chat-close]")) closeChat();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target.closest && event.target.closest(".chat-window")) {
      closeChat();
    }
  });
})();
