// Send later. A thread is redrawn live on every event of its conversation (a delivery report,
// a reply): while a scheduled text's Edit is open, that redraw would throw away what is being
// typed, so it waits. It is held both before it is asked for and, when it was already on its
// way as Edit opened, before it lands; once Edit closes without saving, the thread catches up.
// Save (or Cancel) answers with the thread redrawn anyway.
(function () {
  "use strict";
  var held = false;  // a live redraw was held back while an Edit was open
  function editing(thread) {
    return thread.querySelector("details.scheduled-edit[open]") !== null;
  }
  function isLiveRedraw(elt) {
    return elt && elt.id === "thread";  // only the thread's own redraw, not Save or Cancel
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!isLiveRedraw(elt) || !editing(elt)) return;
    held = true;
    event.preventDefault();
  });
  document.addEventListener("htmx:beforeSwap", function (event) {
    var target = event.detail.target;
    var asked = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!target || target.id !== "thread") return;
    if (!isLiveRedraw(asked)) {
      held = false;  // Save, Cancel or Send redraw the thread: nothing is behind any more
      return;
    }
    if (!editing(target)) return;
    held = true;
    event.detail.shouldSwap = false;
  });
  document.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.matches || !details.matches("details.scheduled-edit") || details.open) return;
    var thread = document.getElementById("thread");
    if (!held || !thread || editing(thread) || !window.htmx) return;
    held = false;
    window.htmx.ajax("GET", thread.getAttribute("hx-get"),
      {source: thread, target: thread, swap: "innerHTML"});
  }, true);
})();
