// Maillage: live progress of a task (polls its JSON endpoint every second; no inline script: CSP).
(function () {
  "use strict";
  var live = document.getElementById("task-live");
  if (!live || live.getAttribute("data-active") !== "true") {
    return;
  }
  var url = live.getAttribute("data-progress-url");
  var bar = document.getElementById("task-progress");
  var counter = document.getElementById("task-counter");
  var text = document.getElementById("task-text");
  var failures = 0;

  function show(data) {
    if (bar) {
      if (data.percent === null || data.percent === undefined) {
        bar.removeAttribute("value");
      } else {
        bar.value = data.percent;
        bar.textContent = data.percent + " %";
      }
    }
    if (counter) {
      counter.textContent = data.total ? data.done + " / " + data.total : "";
    }
    if (text) {
      text.textContent = data.message || data.status_label + "…";
    }
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        show(data);
        if (data.finished) {
          // Done, failed or cancelled (maybe by someone else): no more polling, no more
          // "Annuler"; the reloaded page shows the download link, or the explanation and
          // the retry button.
          var cancel = document.getElementById("task-cancel");
          if (cancel) {
            cancel.remove();
          }
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        failures += 1;
        if (text && failures === 5) {
          text.textContent = "Connexion perdue ; nouvel essai…";
        }
        window.setTimeout(poll, Math.min(1000 * failures, 10000));
      });
  }

  window.setTimeout(poll, 1000);
})();
