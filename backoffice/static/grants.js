// The committee meeting: as the board ticks « Accorder » and types amounts, the figures above the
// table show what this meeting grants and what would remain of the envelope, and the
// confirmation asked before applying says what will be applied. The server checks it all again.
(function () {
  "use strict";
  var form = document.querySelector("form[data-committee]");
  if (!form) { return; }
  var money = new Intl.NumberFormat("fr-FR", {style: "currency", currency: "EUR"});
  var remaining = Math.round(parseFloat(form.getAttribute("data-remaining")) * 100);
  function cents(text) {
    var clean = (text || "").replace(/[\s\u00a0\u202f€]/g, "").replace(",", ".");
    return /^\d+(\.\d{1,2})?$/.test(clean) ? Math.round(parseFloat(clean) * 100) : null;
  }
  function update() {
    var granted = 0, approvals = 0, refusals = 0, unreadable = 0;
    form.querySelectorAll("[data-committee-row]").forEach(function (row) {
      var chosen = row.querySelector("[data-committee-decision]:checked");
      var action = chosen ? chosen.value : "later";
      if (action === "approve") {
        approvals += 1;
        var value = cents(row.querySelector("[data-committee-amount]").value);
        if (value === null) { unreadable += 1; } else { granted += value; }
      } else if (action === "reject") {
        refusals += 1;
      }
    });
    form.querySelector("[data-committee-granted]").textContent = money.format(granted / 100);
    form.querySelector("[data-committee-count]").textContent = approvals + " accord" + (approvals > 1 ? "s" : "");
    var after = form.querySelector("[data-committee-after]");
    after.textContent = money.format((remaining - granted) / 100);
    after.classList.toggle("text-danger", remaining - granted < 0);
    form.setAttribute("data-confirm", "Appliquer " + approvals + " accord" + (approvals > 1 ? "s" : "") +
      " (" + money.format(granted / 100) + ") et " + refusals + " refus ?" +
      (remaining - granted < 0 ? " L'enveloppe serait dépassée : rien ne sera appliqué." : "") +
      (unreadable ? " " + unreadable + " montant(s) illisible(s)." : ""));
  }
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
