// Quick attendance ticking for a SISA meeting: filter the names, tick all, none, or a whole site.
(function () {
  "use strict";
  var fieldset = document.querySelector("[data-attendance]");
  if (!fieldset) { return; }
  var counter = fieldset.querySelector("[data-ticked-count]");
  function boxes(scope) {
    return Array.prototype.filter.call((scope || fieldset).querySelectorAll("input[name=attendees]"), function (box) {
      return !box.closest("[data-attendee]").hidden;
    });
  }
  function count() {
    counter.textContent = fieldset.querySelectorAll("input[name=attendees]:checked").length;
  }
  fieldset.addEventListener("change", count);
  fieldset.addEventListener("click", function (event) {
    var button = event.target.closest("[data-tick]");
    if (!button) { return; }
    var mode = button.getAttribute("data-tick");
    var scope = mode === "site" ? button.closest("[data-site-group]") : fieldset;
    var targets = boxes(scope);
    var value = mode === "none" ? false : (mode === "all" ? true : !targets.every(function (b) { return b.checked; }));
    targets.forEach(function (box) { box.checked = value; });
    count();
  });
  var filter = fieldset.querySelector("[data-attendee-filter]");
  filter.addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); }  // filtering, not saving the meeting
  });
  filter.addEventListener("input", function () {
    var text = filter.value.trim().toLowerCase();
    Array.prototype.forEach.call(fieldset.querySelectorAll("[data-attendee]"), function (item) {
      item.hidden = text !== "" && item.getAttribute("data-attendee").indexOf(text) === -1;
    });
  });
})();
