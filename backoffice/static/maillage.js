// Maillage: confirmations before destructive actions (no inline script: CSP forbids it).
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// A form marked data-selection-total="chèque|chèques" (singular|plural) shows how many of its check
// boxes carrying data-amount are ticked, and their sum (the server wrote the initial figures).
document.addEventListener("change", function (event) {
  var form = event.target.form;
  if (!form || !form.hasAttribute("data-selection-total") || !event.target.hasAttribute("data-amount")) {
    return;
  }
  var count = 0, cents = 0;
  form.querySelectorAll("input[data-amount]:checked").forEach(function (box) {
    count += 1;
    cents += Math.round(parseFloat(box.getAttribute("data-amount")) * 100);
  });
  var nouns = form.getAttribute("data-selection-total").split("|");
  form.querySelector("[data-selection-count]").textContent = count + " " + (count > 1 ? nouns[1] : nouns[0]);
  form.querySelector("[data-selection-sum]").textContent =
    new Intl.NumberFormat("fr-FR", {style: "currency", currency: "EUR"}).format(cents / 100);
});
