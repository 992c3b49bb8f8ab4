// The composer's canned-response picker: the ⇄ button or Ctrl+/ in the message box opens a list
// to search and choose from by keyboard (arrows, Enter, Esc) or pointer. The chosen response,
// filled in by the server for this conversation's contact, goes in the box at the cursor and is
// counted like typing; it is never sent from here. Fields the contact has no value for are named
// in a warning until they are gone from the box.
(function () {
  "use strict";

  function pickerOf(element) {
    return element && element.closest ? element.closest("[data-canned]") : null;
  }
  function boxOf(picker) {
    var form = picker.closest("form");
    return form && form.querySelector("textarea[data-composer]");
  }
  function parts(picker) {
    return {
      button: picker.querySelector("[data-canned-open]"),
      panel: picker.querySelector("[data-canned-panel]"),
      search: picker.querySelector("[data-canned-search]"),
      list: picker.querySelector("[data-canned-options]"),
      nomatch: picker.querySelector("[data-canned-nomatch]"),
      warning: picker.querySelector("[data-canned-warning]"),
    };
  }
  function shownOptions(picker) {
    return Array.prototype.filter.call(
      picker.querySelectorAll("li[role=option]"), function (li) { return !li.hidden; }
    );
  }
  function activeOption(picker) {
    return picker.querySelector("li[role=option][aria-selected=true]");
  }
  function makeActive(picker, option) {
    var p = parts(picker);
    picker.querySelectorAll("li[role=option]").forEach(function (li) {
      li.setAttribute("aria-selected", li === option ? "true" : "false");
    });
    if (option) {
      p.search.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      p.search.removeAttribute("aria-activedescendant");
    }
  }
  function filter(picker) {
    var p = parts(picker);
    var words = p.search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var options = picker.querySelectorAll("li[role=option]");
    options.forEach(function (li) {
      var text = li.textContent.toLowerCase();
      li.hidden = !words.every(function (word) { return text.indexOf(word) !== -1; });
    });
    var shown = shownOptions(picker);
    p.nomatch.hidden = shown.length > 0 || options.length === 0;
    var active = activeOption(picker);
    if (!active || active.hidden) makeActive(picker, shown[0] || null);
  }

  function open(picker) {
    var p = parts(picker);
    p.panel.hidden = false;
    p.button.setAttribute("aria-expanded", "true");
    p.search.value = "";
    p.search.focus();
    // Asked afresh each time: a response added or changed meanwhile is listed as it now is.
    fetch(picker.getAttribute("data-canned-list"), { credentials: "same-origin" })
      .then(function (answer) {
        if (!answer.ok) throw new Error("status " + answer.status);
        return answer.text();
      })
      .then(function (html) {
        p.list.innerHTML = html;
        filter(picker);
      })
      .catch(function () {
        p.list.innerHTML = "";
        showWarning(picker, "The canned responses could not be loaded. Try again.", []);
      });
  }
  function close(picker, focusBox) {
    var p = parts(picker);
    p.panel.hidden = true;
    p.button.setAttribute("aria-expanded", "false");
    var box = boxOf(picker);
    if (focusBox && box) box.focus();
  }
  function showWarning(picker, text, fields) {
    var warning = parts(picker).warning;
    warning.textContent = text;
    warning.hidden = !text;
    warning.setAttribute("data-fields", JSON.stringify(fields));
  }

  function insert(box, text) {
    var start = box.selectionStart, end = box.selectionEnd;
    if (typeof start !== "number") { start = end = box.value.length; }
    box.value = box.value.slice(0, start) + text + box.value.slice(end);
    box.selectionStart = box.selectionEnd = start + text.length;
    // The live counter (htmx, on input) counts the text now in the box.
    box.dispatchEvent(new Event("input", { bubbles: true }));
  }
  function choose(picker, option) {
    var box = boxOf(picker);
    if (!option || !box) return;
    fetch(option.getAttribute("data-canned-fill"), { credentials: "same-origin" })
      .then(function (answer) {
        if (!answer.ok) throw new Error("status " + answer.status);
        return answer.json();
      })
      .then(function (filled) {
        close(picker, true);
        insert(box, filled.text);
        showWarning(picker, filled.warning, filled.empty_fields.concat(filled.unknown_fields));
      })
      .catch(function () {
        showWarning(picker, "That canned response could not be filled in. Try again.", []);
      });
  }

  document.addEventListener("click", function (event) {
    var target = event.target;
    var picker = pickerOf(target);
    // A click outside an open picker closes it.
    document.querySelectorAll("[data-canned-panel]:not([hidden])").forEach(function (panel) {
      var own = pickerOf(panel);
      if (own !== picker) close(own, false);
    });
    if (!picker) return;
    if (target.closest("[data-canned-open]")) {
      if (parts(picker).panel.hidden) open(picker); else close(picker, true);
      return;
    }
    var option = target.closest("li[role=option]");
    if (option) choose(picker, option);
  });

  // In the capture phase, so that Escape closing the picker is not also taken by the chat
  // window around it, which Escape closes too.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (!target.matches) return;
    // Ctrl+/ in a composer's box opens its picker.
    if (target.matches("textarea[data-composer]") && event.ctrlKey && event.key === "/") {
      var form = target.closest("form");
      var own = form && form.querySelector("[data-canned]");
      if (own) {
        event.preventDefault();
        open(own);
      }
      return;
    }
    if (!target.matches("[data-canned-search]")) return;
    var picker = pickerOf(target);
    var shown = shownOptions(picker);
    var at = shown.indexOf(activeOption(picker));
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!shown.length) return;
      var step = event.key === "ArrowDown" ? 1 : -1;
      makeActive(picker, shown[(at + step + shown.length) % shown.length]);
    } else if (event.key === "Enter") {
      // Never the composer's form: Enter here chooses, it does not send.
      event.preventDefault();
      choose(picker, activeOption(picker));
    } else if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      close(picker, true);
    }
  }, true);

  document.addEventListener("input", function (event) {
    var target = event.target;
    if (!target.matches) return;
    if (target.matches("[data-canned-search]")) {
      filter(pickerOf(target));
      return;
    }
    // The warning goes once none of the fields it names is left in the box.
    if (!target.matches("textarea[data-composer]")) return;
    var form = target.closest("form");
    var warning = form && form.querySelector("[data-canned-warning]:not([hidden])");
    if (!warning) return;
    var fields = JSON.parse(warning.getAttribute("data-fields") || "[]");
    var left = fields.some(function (key) { return target.value.indexOf("{" + key + "}") !== -1; });
    if (!left) warning.hidden = true;
  });
})();
