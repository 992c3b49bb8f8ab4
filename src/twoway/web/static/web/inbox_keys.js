// The inbox's keyboard shortcuts (listed by `?`, web/_inbox_keys.html): j/k or the arrows move
// through the list, Enter or o opens, r replies, e archives, a assigns, / searches. A key typed
// in a box is the box's: the shortcuts never fire while typing, and Escape leaves the message
// box so that they work again.
(function () {
  "use strict";

  var TEXT_INPUTS = /^(text|search|email|tel|url|password|number|date|datetime-local|month|time|week)$/;

  function typingIn(element) {
    if (!element || !element.closest) return false;
    if (element.closest("textarea, select, [contenteditable]:not([contenteditable='false'])")) return true;
    return element.tagName === "INPUT" && TEXT_INPUTS.test(element.type || "text");
  }

  function rows() {
    return Array.prototype.slice.call(
      document.querySelectorAll("#conversation-list li.conversation-item[data-conversation]")
    );
  }
  // The row keyboard focus is on, else the open conversation's.
  function currentRow() {
    var active = document.activeElement;
    var row = active && active.closest && active.closest("#conversation-list li.conversation-item");
    return row || document.querySelector("#conversation-list li.conversation-item.open");
  }
  function focusRow(row) {
    var link = row && row.querySelector("a[data-open-conversation]");
    if (!link) return;
    link.focus();
    link.scrollIntoView({ block: "nearest" });
  }
  function move(step) {
    var all = rows();
    if (!all.length) return;
    var at = all.indexOf(currentRow());
    var next = at === -1 ? (step > 0 ? 0 : all.length - 1) : Math.max(0, Math.min(all.length - 1, at + step));
    focusRow(all[next]);
  }

  function panelControl(shortcut) {
    return document.querySelector('#conversation-panel [aria-keyshortcuts="' + shortcut + '"]');
  }
  // On a phone the actions are in a menu: opened first, so the control can be seen and used.
  function showActionsOf(control) {
    var menu = control.closest("[popover]");
    var shown = menu && menu.matches(":popover-open");
    if (menu && !shown && getComputedStyle(menu).display === "none") menu.showPopover();
  }

  function keysDialog() {
    return document.getElementById("inbox-keys");
  }
  function showKeys() {
    var dialog = keysDialog();
    if (!dialog || dialog.open) return;
    // Out of the list's column first: on a phone that column is hidden while a thread is open.
    if (dialog.parentElement !== document.body) document.body.appendChild(dialog);
    dialog.showModal();  // Escape closes it; focus goes back where it was
  }

  var ACTIONS = {
    j: function () { move(1); },
    k: function () { move(-1); },
    ArrowDown: function () { move(1); },
    ArrowUp: function () { move(-1); },
    o: function () {
      var row = currentRow();
      var link = row && row.querySelector("a[data-open-conversation]");
      if (link) link.click();
    },
    r: function () {
      var box = document.querySelector("#conversation-panel textarea[data-composer]");
      if (box) box.focus();
    },
    e: function () {
      var archive = panelControl("e");
      if (archive) archive.click();
    },
    a: function () {
      var assign = panelControl("a");
      if (!assign) return;
      showActionsOf(assign);
      assign.focus();
      try { assign.showPicker(); } catch (e) { /* focused is enough: arrows pick */ }
    },
    "/": function () {
      var search = document.getElementById("inbox-search");
      if (search) search.focus();
    },
    "?": showKeys,
  };
  // The arrows are the list's only while focus is in it (or nowhere), so they still scroll a thread.
  var LIST_ONLY = { ArrowDown: true, ArrowUp: true };

  document.addEventListener("keydown", function (event) {
    if (!document.getElementById("inbox") || event.defaultPrevented || event.isComposing) return;
    var target = event.target;
    if (event.key === "Escape" && target.matches && target.matches("#conversation-panel textarea[data-composer]")) {
      var heading = document.getElementById("thread-heading");
      if (heading) heading.focus();
      else target.blur();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typingIn(target)) return;
    if (document.querySelector("dialog[open]")) return;
    var action = ACTIONS[event.key];
    if (!action) return;
    if (LIST_ONLY[event.key] && target !== document.body && !target.closest("#conversation-list")) return;
    event.preventDefault();
    action();
  });

  document.addEventListener("click", function (event) {
    if (!event.target.closest) return;
    if (event.target.closest("[data-keys-open]")) showKeys();
    if (event.target.closest("[data-keys-close]")) keysDialog().close();
  });

  // The list redrawn live (a text came in, the conversation was archived) replaces the row that
  // had keyboard focus: focus goes back to it, or to the row now in its place.
  var focusedRow = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target.id !== "conversation-list") return;
    var row = document.activeElement && document.activeElement.closest &&
      document.activeElement.closest("#conversation-list li.conversation-item[data-conversation]");
    focusedRow = row ? { id: row.getAttribute("data-conversation"), at: rows().indexOf(row) } : null;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id !== "conversation-list" || !focusedRow) return;
    var was = focusedRow;
    focusedRow = null;
    if (document.activeElement !== document.body) return;
    var all = rows();
    var same = all.filter(function (row) { return row.getAttribute("data-conversation") === was.id; })[0];
    focusRow(same || all[Math.min(was.at, all.length - 1)]);
  });
})();
