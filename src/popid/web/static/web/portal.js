// The citizen portal's small behaviours (no inline script: the CSP forbids it).
// A draft kept when the login expired (web/shell.py _keep_draft) fills the page's form again.
(function () {
  "use strict";
  function restoreDraft() {
    var holder = document.getElementById("popid-draft");
    if (!holder) return;
    var fields;
    try { fields = JSON.parse(holder.textContent || "{}"); } catch (e) { return; }
    var form = document.querySelector("main form[method='post'], main form[method='POST']");
    if (!form || !fields) return;
    Object.keys(fields).forEach(function (name) {
      var values = fields[name] || [];
      var controls = form.querySelectorAll("[name='" + name.replace(/'/g, "\\'") + "']");
      controls.forEach(function (control) {
        var type = (control.type || "").toLowerCase();
        if (type === "password" || type === "file" || type === "hidden" || type === "submit") return;
        if (type === "checkbox" || type === "radio") {
          control.checked = values.indexOf(control.value) !== -1;
        } else if (control.tagName === "SELECT" && control.multiple) {
          Array.prototype.forEach.call(control.options, function (o) { o.selected = values.indexOf(o.value) !== -1; });
        } else if (values.length) {
          control.value = values[0];
        }
      });
    });
  }
  // Below 600 px the stylesheet shows tables as cards: each cell carries its column heading.
  function labelTableCells() {
    document.querySelectorAll("main table.table").forEach(function (table) {
      var headings = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return (th.textContent || "").trim();
      });
      if (!headings.length) return;
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, i) {
          var spans = Number(cell.getAttribute("colspan") || 1) > 1;  // an "empty" row speaks for itself
          if (!cell.hasAttribute("data-label")) cell.setAttribute("data-label", spans ? "" : (headings[i] || ""));
        });
      });
      table.classList.add("cards-ready");
    });
  }
  // "Print or save as PDF" (receipts): the browser's own print dialog, which offers "Save as PDF".
  // The button is hidden in the HTML so that without script nothing shows that cannot work.
  function enablePrint() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { restoreDraft(); labelTableCells(); enablePrint(); });
})();
