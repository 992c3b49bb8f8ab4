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
  document.addEventListener("htmx:afterSettle", function (event) {
    scrollThread();
    var box = document.getElementById("composer-body");
    if (event.target.id === "conversation-panel" && box) box.focus();
  });
})();
