// The privacy officer's client picker: "Use this record" puts the chosen record number into
// the form's field (data-pick-into names it). Without JavaScript the number is shown to type.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-pick]");
    if (!button) return;
    var field = document.getElementById(button.getAttribute("data-pick-into"));
    if (!field) return;
    field.value = button.getAttribute("data-pick");
    field.focus();
  });
})();
