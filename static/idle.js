// Warns two minutes before the idle sign-out (CJIS AC-11) and offers to stay signed in.
// Requests the page makes by itself (the polls) do not count as activity, as on the server.
(function () {
  "use strict";
  var dialog = document.getElementById("idle-warning");
  var idle = Number(document.body.dataset.idleSeconds || 0);
  if (!dialog || !idle) return;
  var passive = /^\/notifications\/badge$|^\/work-group\/meetings\/\d+\/live$/;
  var warnTimer = null;
  var endTimer = null;

  function arm() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    warnTimer = setTimeout(function () {
      if (!dialog.open) dialog.showModal();
    }, Math.max(idle - 120, 0) * 1000);
    endTimer = setTimeout(function () {
      dialog.querySelector("[data-idle-text]").textContent =
        "You have been signed out. What you send from this page now is kept for 24 hours " +
        "and offered back on your home page after you sign in.";
    }, idle * 1000);
  }

  document.body.addEventListener("htmx:afterRequest", function (event) {
    var path = (event.detail.pathInfo && event.detail.pathInfo.requestPath) || "";
    if (passive.test(path.split("?")[0]) || !event.detail.successful) return;
    arm();
    if (event.detail.elt && event.detail.elt.id === "idle-stay") dialog.close();
  });
  arm();
})();
