// Twoway's own small behaviours; everything else is htmx.
(function () {
  "use strict";

  // In a composer, Enter sends and Shift-Enter starts a new line.
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("textarea[data-composer]")) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      if (box.value.trim()) box.form.requestSubmit();
    }
  });

  // "Use plain quotes..." under a composer: its text with the look-alikes replaced goes in the
  // box, which recounts it as any typing does.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-plain-text]");
    if (!button) return;
    var box = button.closest("form") && button.closest("form").querySelector("textarea");
    if (!box) return;
    box.value = button.getAttribute("data-plain-text");
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  });

  // A "select all" box ticks or clears every box of its name in its form, those inside it and
  // those that belong to it from elsewhere (`form="..."`: the inbox rows).
  document.addEventListener("change", function (event) {
    var all = event.target;
    if (!all.matches || !all.matches("input[data-select-all]") || !all.form) return;
    var name = all.getAttribute("data-select-all");
    Array.prototype.forEach.call(all.form.elements, function (box) {
      if (box.type === "checkbox" && box.name === name) box.checked = all.checked;
    });
  });
  // The inbox list redrawn live keeps the rows its reader ticked (those still listed).
  var ticked = [];
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target.id !== "conversation-list") return;
    ticked = Array.prototype.map.call(
      document.querySelectorAll("#conversation-list input.pick:checked"),
      function (box) { return box.value; }
    );
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id !== "conversation-list") return;
    var bulk = event.detail.requestConfig && event.detail.requestConfig.elt &&
      event.detail.requestConfig.elt.id === "bulk-actions";
    if (bulk) ticked = [];  // acted on: start afresh
    document.querySelectorAll("#conversation-list input.pick").forEach(function (box) {
      box.checked = ticked.indexOf(box.value) !== -1;
    });
    var all = document.querySelector("#bulk-actions input[data-select-all]");
    if (all && bulk) all.checked = false;
  });

  // Alerts for new texts, while an inbox is open (its person's switches, on #inbox): the tab's
  // title counts the conversations that need attention; a client's new text, unless its
  // conversation is muted, shows a browser notification (opening that conversation when
  // clicked) and plays a short sound.
  var baseTitle = document.title;
  function titleCount() {
    var count = document.querySelector('#conversation-list [data-count="needs_attention"]');
    var n = count ? parseInt(count.textContent, 10) : 0;
    var shown = count && count.textContent.trim();
    document.title = n > 0 ? "(" + shown + ") " + baseTitle : baseTitle;
  }
  document.addEventListener("DOMContentLoaded", titleCount);
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target.id === "conversation-list") titleCount();
  });
  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    var audio = new Context();
    var tone = audio.createOscillator();
    var gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.25);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.25);
  }
  document.addEventListener("htmx:sseMessage", function (event) {
    var inbox = document.getElementById("inbox");
    var message = event.detail;
    if (!inbox || event.target.id !== "conversation-list" || !message || message.type !== "inbox") {
      return;
    }
    var data;
    try { data = JSON.parse(message.data); } catch (e) { return; }
    if (data.kind !== "message.created" || data.direction !== "in" || data.note || data.muted) return;
    if (inbox.getAttribute("data-alert-sound") === "on") beep();
    if (inbox.getAttribute("data-alert-desktop") !== "on" || !("Notification" in window)) return;
    if (Notification.permission !== "granted" || !document.hidden) return;
    var note = new Notification(data.contact, { body: data.preview, tag: "conversation-" + data.conversation });
    note.onclick = function () {
      window.focus();
      window.location.href = "/inbox/c/" + data.conversation + "/";
      note.close();
    };
  });
  // Ticking "Show a browser notification" asks the browser's permission, once.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-ask-notifications]") || !box.checked) return;
    var blocked = document.querySelector("[data-notifications-blocked]");
    if (!("Notification" in window)) { if (blocked) blocked.hidden = false; return; }
    if (Notification.permission === "granted") return;
    Notification.requestPermission().then(function (answer) {
      if (answer !== "granted" && blocked) blocked.hidden = false;
    });
  });

  // Keep the newest message in view when the thread is (re)drawn.
  function scrollThread() {
    var thread = document.getElementById("thread");
    if (thread) thread.scrollTop = thread.scrollHeight;
  }
  document.addEventListener("DOMContentLoaded", scrollThread);

  // A simulated phone's screen redraws every second: keep it at the newest text, unless the
  // reader scrolled up to read older ones.
  var screenAtBottom = true;
  function scrollScreen() {
    var screen = document.getElementById("screen");
    if (screen && screenAtBottom) screen.scrollTop = screen.scrollHeight;
  }
  document.addEventListener("DOMContentLoaded", scrollScreen);
  document.addEventListener("htmx:beforeSwap", function (event) {
    var screen = event.detail.target;
    if (screen.id !== "screen") return;
    var sent = event.detail.requestConfig && event.detail.requestConfig.verb === "post";
    screenAtBottom = sent || screen.scrollTop + screen.clientHeight >= screen.scrollHeight - 24;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id === "screen") scrollScreen();
  });
  // A form marked data-reset-on-success empties once htmx has sent it (here, not in an hx-on
  // attribute: the Content-Security-Policy allows no code in the page).
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (event.detail.successful && form.matches && form.matches("form[data-reset-on-success]")) {
      // Only what was typed empties: a picked choice (the phone's To number) stays picked,
      // where reset() would put it back to the one the page was drawn with.
      var picked = Array.prototype.map.call(form.querySelectorAll("select"), function (select) {
        return [select, select.value];
      });
      form.reset();
      picked.forEach(function (pair) { pair[0].value = pair[1]; });
    }
  });
  // The inbox list marks the open conversation; it is redrawn live, so it asks for the open
  // conversation's mark, whichever was opened since the page loaded.
  function openConversationId() {
    var panel = document.getElementById("conversation-panel");
    return (panel && panel.getAttribute("data-conversation")) || "";
  }
  function markOpen(id) {
    document.querySelectorAll(".conversation-items a[data-open-conversation]").forEach(function (link) {
      var open = link.getAttribute("data-open-conversation") === id;
      link.closest(".conversation-item").classList.toggle("open", open);
      if (open) link.setAttribute("aria-current", "true");
      else link.removeAttribute("aria-current");
    });
  }
  // The place of the list's last row, in the form the server reads (`InboxCursor`):
  // `<its time, ISO 8601>_<its id>`, taken from the row as `conversation_items` writes it.
  function lastRowCursor() {
    var rows = document.querySelectorAll("#conversation-list li.conversation-item[data-conversation]");
    var last = rows[rows.length - 1];
    if (!last) return "";
    var time = last.querySelector("time");
    return ((time && time.getAttribute("datetime")) || "") + "_" + last.getAttribute("data-conversation");
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    // Older rows are marked too, when the open conversation is among them.
    if (elt.id === "conversation-list" || elt.hasAttribute("data-older")) {
      event.detail.parameters.open = openConversationId();
    }
    // The list is redrawn live down to its last row on screen, so older conversations the
    // reader loaded stay.
    if (elt.id === "conversation-list") {
      var through = lastRowCursor();
      if (through) event.detail.parameters.through = through;
    }
    // The thread is redrawn live from its oldest message on screen, so earlier messages the
    // reader loaded stay.
    // Send, Retry and a drip's Apply and Cancel answer with the thread too, redrawn the same way.
    if (elt.id === "thread" || elt.matches("form.composer") || elt.hasAttribute("data-retry") ||
        elt.hasAttribute("data-drip-apply") || elt.hasAttribute("data-drip-cancel")) {
      var oldest = document.querySelector("#thread li.message[data-uid]");
      if (oldest) event.detail.parameters.since = oldest.getAttribute("data-uid");
    }
  });
  // A live redraw keeps the newest message in view only for a reader who was there: one who
  // scrolled up to read stays where they were.
  var threadAtBottom = true;
  // "Show older conversations" is replaced by the rows it loads: remember the row above it, so
  // keyboard focus can go on to the first of them rather than be lost with the link.
  var rowAboveOlder = null;
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target.matches && event.detail.target.matches("li.older")) {
      rowAboveOlder = event.detail.target.previousElementSibling;
    }
  });
  // A live redraw of the header must not undo a pick in the assign menu that its reader has not
  // confirmed yet: it is remembered here and put back on the redrawn menu.
  var pendingAssign = null;
  function assignMenu(root) {
    return root.querySelector("form.assign select");
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (event.detail.target.id !== "thread-header") return;
    pendingAssign = null;
    var menu = assignMenu(event.detail.target);
    if (!menu || !menu.options.length) return;
    var shown = Array.prototype.find.call(menu.options, function (o) { return o.defaultSelected; });
    if (menu.value !== (shown || menu.options[0]).value) pendingAssign = menu.value;
  });
  function restorePendingAssign(header) {
    var menu = assignMenu(header);
    if (menu === null || pendingAssign === null) return;
    var value = pendingAssign;
    if (Array.prototype.some.call(menu.options, function (o) { return o.value === value; })) {
      menu.value = value;
    }
    pendingAssign = null;
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var thread = event.detail.target;
    if (thread.id !== "thread") return;
    threadAtBottom = thread.scrollTop + thread.clientHeight >= thread.scrollHeight - 24;
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;  // what asked
    var from = function (name) { return source && source.hasAttribute && source.hasAttribute(name); };
    // Earlier messages load above: the reader stays where they were, on the next link if any.
    if (from("data-earlier")) {
      var more = document.querySelector("#thread a[data-earlier]");
      if (more) more.focus({ preventScroll: true });
      return;
    }
    if (from("data-older")) {
      var first = rowAboveOlder && rowAboveOlder.nextElementSibling;
      var link = first && first.querySelector("a");
      if (link && document.activeElement === document.body) link.focus({ preventScroll: true });
      return;
    }
    if (event.target.id === "thread") {
      if (threadAtBottom) scrollThread();
      return;
    }
    // The header redrawn live (another agent assigned, archived...): the reader's scroll and
    // focus stay where they were; htmx itself puts focus back on the assign menu, found by id,
    // and an unconfirmed pick in it comes back too.
    if (event.target.id === "thread-header") {
      restorePendingAssign(event.target);
      return;
    }
    scrollThread();
    // Sent: the new text in view (above), and the emptied composer ready for the next one.
    if (event.target.matches && event.target.matches("form.composer")) {
      var composer = document.getElementById("composer-body");
      if (composer) composer.focus();
      return;
    }
    if (event.target.id !== "conversation-panel") return;
    if (from("data-open-conversation")) {
      // On a phone the thread now takes the screen in place of the list.
      var inbox = document.getElementById("inbox");
      if (inbox) inbox.classList.add("conversation-open");
      // Opened from the list: mark its row, and take keyboard users to the thread's heading.
      markOpen(openConversationId());
      var heading = document.getElementById("thread-heading");
      if (heading) heading.focus({ preventScroll: true });
      return;
    }
    var box = document.getElementById("composer-body");
    if (box) box.focus();
  });
})();
