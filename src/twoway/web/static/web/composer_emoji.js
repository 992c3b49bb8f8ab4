// The composer's emoji: `:name:` shortcodes become their emoji as the closing colon is typed,
// and the smiley button opens a picker searched by the same names. Both read the server's own
// table of names (web/composer_emoji.py; the address, under the emoji package's version, is on
// this script's tag), fetched once and then kept by the browser, so the box shows what is sent.
(function () {
  "use strict";

  var script = document.currentScript;
  var namesUrl = script && script.getAttribute("data-emoji-names");
  var table = null;   // [[emoji, English name, other names...], ...] in the picker's order
  var byName = null;  // every name the server converts -> its emoji
  var loading = null;

  function load() {
    if (!loading) {
      loading = fetch(namesUrl, { credentials: "same-origin" })
        .then(function (answer) {
          if (!answer.ok) throw new Error("emoji names: " + answer.status);
          return answer.json();
        })
        .then(function (rows) {
          var names = Object.create(null);
          rows.forEach(function (row) {
            for (var i = 1; i < row.length; i++) names[row[i]] = row[0];
          });
          table = rows;
          byName = names;
        })
        .catch(function (error) {
          loading = null;  // asked again next time
          throw error;
        });
    }
    return loading;
  }

  function isComposer(element) {
    return element && element.matches && element.matches("textarea[data-composer]");
  }

  // Text put in the box as if typed: the browser's undo (Ctrl-Z) brings back what it replaced,
  // and the counter recounts on the input event it fires. Where insertText is missing the text
  // goes in directly, and the counter is told.
  function insertText(box, start, end, text) {
    box.focus();
    box.setSelectionRange(start, end);
    if (!document.execCommand || !document.execCommand("insertText", false, text)) {
      box.setRangeText(text, start, end, "end");
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  // --- Shortcodes as you type -------------------------------------------------------------
  // The name just closed by the colon at the caret; no spaces or colons inside, as the server
  // reads names. It is looked up as the server looks it up (NFKC, case as typed).
  var CLOSED_NAME = /:([^\s:]+):$/;

  // The name closed by the colon at `end`, turned into its emoji; the caret, if it was after
  // the name, moves with the text after it.
  function convertEndingAt(box, end) {
    if (!byName) return;
    var match = CLOSED_NAME.exec(box.value.slice(0, end));
    var char = match && byName[match[1].normalize("NFKC")];
    if (!char) return;
    var start = end - match[0].length;
    var caret = box.selectionStart, caretEnd = box.selectionEnd;
    insertText(box, start, end, char);
    if (caret !== end || caretEnd !== end) {  // typing went on: put the caret back where it was
      var shift = char.length - match[0].length;
      box.setSelectionRange(caret >= end ? caret + shift : caret, caretEnd >= end ? caretEnd + shift : caretEnd);
    }
  }

  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!isComposer(box) || event.inputType !== "insertText" || !event.data) return;
    if (event.data.slice(-1) !== ":" || box.selectionStart !== box.selectionEnd) return;
    var end = box.selectionStart;
    if (byName) { convertEndingAt(box, end); return; }
    // The names are still on their way, and typing may go on meanwhile: the name closed here
    // is turned once they come, if the text up to it is still what it was.
    var typed = box.value.slice(0, end);
    load().then(function () {
      if (box.value.slice(0, end) === typed) convertEndingAt(box, end);
    }, function () {});
  });
  // The table is fetched when a composer is first used, before the first name is finished.
  document.addEventListener("focusin", function (event) {
    if (isComposer(event.target)) load().catch(function () {});
  });

  // --- The picker -------------------------------------------------------------------------
  var RECENT_KEY = "twoway.emoji.recent";
  var RECENT_MAX = 24;
  var lastId = 0;

  function recentlyUsed() {
    try {
      var kept = JSON.parse(window.localStorage.getItem(RECENT_KEY) || "[]");
      return Array.isArray(kept) ? kept : [];
    } catch (e) {
      return [];
    }
  }
  function remember(char) {
    var kept = recentlyUsed().filter(function (c) { return c !== char; });
    kept.unshift(char);
    try {
      window.localStorage.setItem(RECENT_KEY, JSON.stringify(kept.slice(0, RECENT_MAX)));
    } catch (e) { /* private mode: nothing remembered */ }
  }

  function parts(picker) {
    var form = picker.closest("form");
    return {
      toggle: picker.querySelector("[data-emoji-toggle]"),
      panel: picker.querySelector("[data-emoji-panel]"),
      search: picker.querySelector("[data-emoji-search]"),
      grid: picker.querySelector("[data-emoji-grid]"),
      status: picker.querySelector("[data-emoji-status]"),
      box: form && form.querySelector("textarea[data-composer]"),
    };
  }

  // Every word typed is part of one of the emoji's names ("thumbs" finds thumbs_up, "+1" too).
  // Skin-tone variants are listed only when asked for, as they would crowd out the rest.
  function found(row, words, withTones) {
    if (!withTones && row[1].indexOf("skin_tone") !== -1) return false;
    return words.every(function (word) {
      for (var i = 1; i < row.length; i++) {
        if (row[i].toLowerCase().indexOf(word) !== -1) return true;
      }
      return false;
    });
  }

  function render(picker) {
    var p = parts(picker);
    var query = p.search.value.trim().toLowerCase().replace(/[\s_]+/g, " ");
    var words = query ? query.split(" ") : [];
    var withTones = /skin|tone/.test(query);
    var recent = recentlyUsed();
    var rows = table.filter(function (row) { return found(row, words, withTones); });
    // Recently used first, most recent first; then the rest in the table's order.
    var rank = function (row) { var at = recent.indexOf(row[0]); return at === -1 ? RECENT_MAX : at; };
    rows = rows
      .map(function (row, at) { return { row: row, at: at, rank: rank(row) }; })
      .sort(function (a, b) { return a.rank - b.rank || a.at - b.at; })
      .map(function (item) { return item.row; });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row, at) {
      var option = document.createElement("li");
      option.setAttribute("role", "option");
      option.id = picker.getAttribute("data-emoji-id") + "-" + at;
      option.setAttribute("data-emoji", row[0]);
      option.setAttribute("aria-selected", "false");
      option.setAttribute("aria-label", row[1].replace(/_/g, " "));
      option.title = ":" + row[row.length - 1] + ":";
      option.textContent = row[0];
      fragment.appendChild(option);
    });
    p.grid.replaceChildren(fragment);
    p.status.textContent = rows.length ? "" : "No emoji by that name.";
    p.status.hidden = rows.length > 0;
    activate(picker, rows.length ? 0 : -1);
  }

  function options(picker) {
    return parts(picker).grid.querySelectorAll('[role="option"]');
  }
  function activeIndex(picker) {
    var all = options(picker);
    for (var i = 0; i < all.length; i++) if (all[i].getAttribute("aria-selected") === "true") return i;
    return -1;
  }
  function activate(picker, index) {
    var p = parts(picker);
    var all = options(picker);
    var before = activeIndex(picker);
    if (before !== -1) all[before].setAttribute("aria-selected", "false");
    if (index < 0 || index >= all.length) {
      p.search.removeAttribute("aria-activedescendant");
      return;
    }
    all[index].setAttribute("aria-selected", "true");
    p.search.setAttribute("aria-activedescendant", all[index].id);
    all[index].scrollIntoView({ block: "nearest" });
  }
  // How many emoji a row of the grid holds, as laid out now.
  function columns(picker) {
    var all = options(picker);
    var n = 1;
    while (n < all.length && all[n].offsetTop === all[0].offsetTop) n++;
    return n;
  }

  function open(picker) {
    var p = parts(picker);
    if (!picker.getAttribute("data-emoji-id")) picker.setAttribute("data-emoji-id", "emoji-" + (++lastId));
    // Where the pick goes: the caret (or selection) as the box had it.
    picker.caret = p.box ? [p.box.selectionStart, p.box.selectionEnd] : [0, 0];
    p.panel.hidden = false;
    p.toggle.setAttribute("aria-expanded", "true");
    p.search.value = "";
    p.search.focus();
    if (table) { render(picker); return; }
    p.status.hidden = false;
    p.status.textContent = "Loading emoji…";
    load().then(
      function () { if (!p.panel.hidden) render(picker); },
      function () { p.status.textContent = "The emoji could not be loaded; try again."; }
    );
  }

  function close(picker, focusBox) {
    var p = parts(picker);
    if (p.panel.hidden) return;
    p.panel.hidden = true;
    p.toggle.setAttribute("aria-expanded", "false");
    if (focusBox && p.box) {
      p.box.focus();
      p.box.setSelectionRange(picker.caret[0], picker.caret[1]);
    }
  }

  function pick(picker, option) {
    var p = parts(picker);
    var char = option.getAttribute("data-emoji");
    remember(char);
    close(picker, false);
    if (!p.box) return;
    insertText(p.box, picker.caret[0], picker.caret[1], char);
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var picker = target.closest && target.closest("[data-emoji-picker]");
    document.querySelectorAll("[data-emoji-picker]").forEach(function (other) {
      if (other !== picker) close(other, false);  // a click elsewhere closes it
    });
    if (!picker) return;
    if (target.closest("[data-emoji-toggle]")) {
      if (parts(picker).panel.hidden) open(picker);
      else close(picker, true);
      return;
    }
    var option = target.closest('[role="option"]');
    if (option) pick(picker, option);
  });
  // A press in the grid keeps focus in the search box (whose keys drive the grid).
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest("[data-emoji-grid]")) event.preventDefault();
  });
  document.addEventListener("input", function (event) {
    var picker = event.target.matches && event.target.matches("[data-emoji-search]") &&
      event.target.closest("[data-emoji-picker]");
    if (picker && table) render(picker);
  });
  document.addEventListener("focusout", function (event) {
    var picker = event.target.closest && event.target.closest("[data-emoji-picker]");
    if (picker && !(event.relatedTarget && picker.contains(event.relatedTarget))) close(picker, false);
  });
  // Captured here, before the page's other keys: Escape closes the picker, not what holds it
  // (a contact's chat window), and Enter picks rather than sends.
  document.addEventListener("keydown", function (event) {
    var search = event.target;
    if (!search.matches || !search.matches("[data-emoji-search]")) return;
    var picker = search.closest("[data-emoji-picker]");
    var at = activeIndex(picker);
    var count = options(picker).length;
    var step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: columns(picker), ArrowUp: -columns(picker) }[event.key];
    if (step && count) {
      event.preventDefault();
      activate(picker, Math.min(count - 1, Math.max(0, (at === -1 ? 0 : at + step))));
    } else if (event.key === "Enter") {
      event.preventDefault();
      event.stopPropagation();
      if (at !== -1) pick(picker, options(picker)[at]);
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close(picker, true);
    }
  }, true);
})();
