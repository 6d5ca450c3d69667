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

// Buttons data-copy="#id" copy that element's text to the clipboard (without its spaces with
// data-copy-without-spaces: an IBAN shown in groups of four).
// Hidden in the page, shown here only where the browser allows it (a secure context).
document.querySelectorAll("[data-copy]").forEach(function (button) {
  if (!navigator.clipboard) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    var source = document.querySelector(button.getAttribute("data-copy"));
    var text = source.textContent.trim();
    if (button.hasAttribute("data-copy-without-spaces")) {
      text = text.replace(/\s+/g, "");
    }
    navigator.clipboard.writeText(text).then(function () {
      button.textContent = "Copié";
    });
  });
});
