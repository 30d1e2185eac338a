// On a phone a table is shown as cards (static/hub.css); each cell is labelled with its
// column's heading, here, so that no template has to repeat the headings.
(function () {
  "use strict";
  function label(root) {
    root.querySelectorAll("table").forEach(function (table) {
      var headings = Array.prototype.map.call(
        table.querySelectorAll("thead th"),
        function (th) { return th.textContent.trim(); }
      );
      if (!headings.length) return;
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, n) {
          if (!cell.hasAttribute("data-label")) cell.setAttribute("data-label", headings[n] || "");
        });
      });
    });
  }
  label(document);
  document.body.addEventListener("htmx:afterSwap", function (event) { label(event.target); });
})();
