// Send later. A thread is redrawn live on every event of its conversation (a delivery report,
// a reply): while a scheduled text's Edit is open, that redraw would throw away what is being
// typed, so it waits; Save (or Cancel) answers with the thread redrawn anyway.
(function () {
  "use strict";
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || elt.id !== "thread") return;  // only the live redraw, not Save or Cancel
    if (elt.querySelector("details.scheduled-edit[open]")) event.preventDefault();
  });
})();
