// A long list to choose from (the consent's recipients): typing in the search field named by
// data-filter-select hides the options, and the groups, that do not match. Nothing is sent.
(function () {
  "use strict";
  document.addEventListener("input", function (event) {
    var field = event.target;
    var select = document.getElementById(field.getAttribute("data-filter-select") || "");
    if (!select) return;
    var wanted = field.value.trim().toLowerCase();
    select.querySelectorAll("optgroup").forEach(function (group) {
      var shown = 0;
      group.querySelectorAll("option").forEach(function (option) {
        var match = !wanted || option.textContent.toLowerCase().indexOf(wanted) !== -1;
        option.hidden = !match;
        if (match) shown += 1;
      });
      group.hidden = shown === 0;
    });
  });
})();
