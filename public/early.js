// Before the app has loaded (seconds on a slow network) the conversation is a plain form.
// This small script, loaded before the app, makes it behave as the app will: a conversation
// opens at its newest message, and Enter sends (Shift+Enter is a new line). Once the app
// has hydrated (`html[data-hydrated]`) it does nothing: the app handles both itself.
(function () {
  "use strict";
  function hydrated() {
    return document.documentElement.hasAttribute("data-hydrated");
  }
  function toNewest() {
    var list = document.querySelector("ol.messages");
    if (list && !location.hash && !hydrated()) {
      list.scrollTop = list.scrollHeight;
      // On short screens the page scrolls instead of the list (style/main.css).
      if (list.scrollHeight <= list.clientHeight) {
        window.scrollTo(0, document.body.scrollHeight);
      }
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", toNewest);
  } else {
    toNewest();
  }
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (hydrated() || !box || box.id !== "composer-body") return;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (box.value.trim() && box.form) {
      box.form.requestSubmit();
    }
  });
})();
