// The composer's droplet: once a campaign is applied (or refused), the thread is redrawn with
// its steps (or the reason) at the top; the list is closed so that what happened is in view.
(function () {
  "use strict";
  var applying = false;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-drip-apply")) applying = true;
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!applying) return;
    applying = false;
    document.querySelectorAll("details[data-drip-picker][open]").forEach(function (picker) {
      picker.open = false;
    });
  });
})();
