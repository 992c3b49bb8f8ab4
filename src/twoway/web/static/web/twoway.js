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

  // Keep the newest message in view when the thread is (re)drawn.
  function scrollThread() {
    var thread = document.getElementById("thread");
    if (thread) thread.scrollTop = thread.scrollHeight;
  }
  document.addEventListener("DOMContentLoaded", scrollThread);
  document.addEventListener("htmx:afterSettle", function (event) {
    scrollThread();
    var box = document.getElementById("composer-body");
    if (event.target.id === "conversation-panel" && box) box.focus();
  });
})();
