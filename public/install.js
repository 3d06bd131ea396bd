// Registers Haven's service worker (public/sw.js): cached assets, the offline page, and
// notifications between visits. Nothing is asked of the person here: the browser's
// permission prompt comes only from the button in Settings.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator)) return;
  window.addEventListener("load", function () {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  });
})();
