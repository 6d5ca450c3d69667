// Manual journal entry: add lines and show the running totals (the server checks everything again).
(function () {
  "use strict";
  var form = document.getElementById("entry-form");
  if (!form) { return; }
  var body = form.querySelector("#entry-lines tbody");
  var MAX_LINES = 50;

  function parseAmount(text) {
    var clean = (text || "").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    if (!clean) { return 0; }
    var value = Number(clean);
    return isFinite(value) ? Math.round(value * 100) : NaN;
  }

  function formatCents(cents) {
    var sign = cents < 0 ? "-" : "";
    var abs = Math.abs(cents);
    var euros = String(Math.floor(abs / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
    return sign + euros + "," + String(abs % 100).padStart(2, "0") + "\u00a0€";
  }

  function updateTotals() {
    var debit = 0, credit = 0, invalid = false;
    body.querySelectorAll("tr.entry-line").forEach(function (row) {
      var d = parseAmount(row.querySelector("input[name$='-debit']").value);
      var c = parseAmount(row.querySelector("input[name$='-credit']").value);
      if (isNaN(d) || isNaN(c)) { invalid = true; return; }
      debit += d; credit += c;
    });
    document.getElementById("entry-total-debit").textContent = formatCents(debit);
    document.getElementById("entry-total-credit").textContent = formatCents(credit);
    var note = document.getElementById("entry-difference");
    if (invalid) {
      note.textContent = "(montant illisible)";
      note.className = "ms-2 text-danger";
    } else if (debit === credit) {
      note.textContent = debit ? "(équilibrée)" : "";
      note.className = "ms-2 text-success";
    } else {
      note.textContent = "(écart " + formatCents(Math.abs(debit - credit)) + ")";
      note.className = "ms-2 text-danger";
    }
  }

  function addLine() {
    var rows = body.querySelectorAll("tr.entry-line");
    if (rows.length >= MAX_LINES) { return; }
    var last = rows[rows.length - 1];
    var copy = last.cloneNode(true);
    var index = rows.length;
    copy.querySelectorAll("input, select").forEach(function (field) {
      field.name = field.name.replace(/^lines-\d+-/, "lines-" + index + "-");
      field.id = field.id.replace(/^lines-\d+-/, "lines-" + index + "-");
      var label = field.getAttribute("aria-label");
      if (label) { field.setAttribute("aria-label", label.replace(/\(ligne \d+\)/, "(ligne " + (index + 1) + ")")); }
      field.classList.remove("is-invalid");
      if (field.tagName === "SELECT") { field.selectedIndex = 0; } else { field.value = ""; }
    });
    copy.querySelectorAll(".invalid-feedback").forEach(function (node) { node.remove(); });
    body.appendChild(copy);
    copy.querySelector("input").focus();
  }

  document.getElementById("add-line").addEventListener("click", addLine);
  body.addEventListener("input", updateTotals);
  updateTotals();
}());
