// Progressive enhancement for the htmx swaps: move focus where the person needs to be,
// say what changed to screen readers, and keep requests honest about being busy.
(function () {
  "use strict";

  function announce(text) {
    const region = document.getElementById("announcer");
    if (!region) return;
    // Clear first so the same sentence twice is still announced.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    event.detail.elt.setAttribute("aria-busy", "true");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    event.detail.elt.removeAttribute("aria-busy");
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    const main = document.getElementById("main");
    if (!main || event.detail.target !== main) return;
    const invalid = main.querySelector(".is-invalid, [aria-invalid='true']");
    const error = main.querySelector(".invalid-feedback, .alert-danger");
    const heading = main.querySelector("h1");
    if (invalid || error) {
      // A form came back with errors: put the person on the first field to fix (or,
      // for a form-wide error such as a failed log-in, the password, which was cleared).
      const field = invalid
        || main.querySelector("input[type='password']")
        || main.querySelector("input:not([type='hidden']), select, textarea");
      (field || heading).focus();
      announce("The form has errors. " + (error ? error.textContent.trim() : ""));
    } else if (heading) {
      heading.focus();
      const status = main.querySelector("[role='status'], [role='alert']");
      announce(heading.textContent.trim() + (status ? ". " + status.textContent.trim() : ""));
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    const status = event.detail.xhr.status;
    const message = status === 403
      ? "Your session has changed. Reload the page and try again."
      : "Something went wrong (" + status + "). Please try again.";
    announce(message);
    const main = document.getElementById("main");
    if (!main) return;
    let alert = main.querySelector("#request-error");
    if (!alert) {
      alert = document.createElement("div");
      alert.id = "request-error";
      alert.className = "alert alert-danger";
      alert.setAttribute("role", "alert");
      main.prepend(alert);
    }
    alert.textContent = message;
  });

  document.addEventListener("htmx:sendError", function () {
    announce("The request could not be sent. Check your connection and try again.");
  });
})();
