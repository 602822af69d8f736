// Progressive enhancement for the htmx swaps: move focus where the person needs to be,
// say what changed to screen readers, keep what was typed, and show the password rules
// as a new password is typed. Without JavaScript none of this runs and every form is an
// ordinary POST.
(function () {
  "use strict";

  const RULES_DELAY = "400ms"; // the pause in typing before the rules are checked

  // This page's words, from the server in its language (base.html), read afresh after
  // each swap of the body so a language switch changes them too.
  function t(key) {
    const script = document.getElementById("script-strings");
    try {
      return JSON.parse(script.textContent)[key] || key;
    } catch (error) {
      return key;
    }
  }

  // A swap of the body may bring another language: <html lang dir> and the stylesheet
  // (Bootstrap's right-to-left build for Arabic) follow it, as a full load would.
  function languageFollow() {
    const page = document.getElementById("page-language");
    if (!page) return;
    const root = document.documentElement;
    if (page.dataset.lang && root.lang !== page.dataset.lang) root.lang = page.dataset.lang;
    const dir = page.dataset.dir === "rtl" ? "rtl" : "ltr";
    if (root.dir !== dir) root.dir = dir;
    const css = document.getElementById("bootstrap-css");
    const href = css && css.dataset[dir];
    if (href && css.getAttribute("href") !== href) css.setAttribute("href", href);
  }

  // The browser's time zone goes with each form, so an email's times can be written in
  // it (the server checks it against its list of zones and otherwise writes UTC).
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    let zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (error) {
      return;
    }
    if (!zone || form.elements.namedItem("time_zone")) return;
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = "time_zone";
    input.value = zone;
    form.appendChild(input);
  }, true);

  function announce(text) {
    const region = document.getElementById("announcer");
    if (!region) return;
    // Clear first so the same sentence twice is still announced.
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  // Focus and announcements --------------------------------------------------------

  // After a swap of <main> (a form's answer) or of the whole body (a link, log-in,
  // log-out, Back and Forward): focus what the person needs next and say what changed.
  function pageSettled() {
    const main = document.getElementById("main");
    if (!main) return;
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
      announce(t("formErrors") + " " + (error ? error.textContent.trim() : ""));
    } else if (heading) {
      heading.focus();
      const status = main.querySelector("[role='status'], [role='alert']");
      announce(heading.textContent.trim() + (status ? ". " + status.textContent.trim() : ""));
    }
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    // A form or link is busy; a field checking its rules is not.
    if (event.detail.elt.tagName !== "INPUT") event.detail.elt.setAttribute("aria-busy", "true");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    event.detail.elt.removeAttribute("aria-busy");
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    const target = event.detail.target;
    if (target === document.body) languageFollow();
    if (target === document.getElementById("main") || target === document.body) pageSettled();
  });

  // Back pressed twice quickly: only the page the browser is on now may land. htmx
  // does not cancel an earlier restore still under way, whose answer would otherwise
  // replace the newer page when it arrives late.
  let restoring = null;
  document.addEventListener("htmx:historyCacheMiss", function (event) {
    if (restoring) restoring.abort();
    restoring = event.detail.xhr;
  });

  // Back and Forward: htmx fetched the page and swapped it in.
  document.addEventListener("htmx:historyRestore", function () {
    languageFollow();
    pageSettled();
  });

  document.addEventListener("htmx:responseError", function (event) {
    const status = event.detail.xhr.status;
    const message = status === 403
      ? t("sessionChanged")
      : t("requestFailed").replace("%(status)s", String(status));
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
    announce(t("notSent"));
  });

  // What was typed stays ------------------------------------------------------------

  // The server never sends a password back, so a form that returns with errors would
  // come back with its password fields empty. Fields it marks data-keep-value get the
  // typed text again (kept here, in this page's memory, only for the swap).
  let kept = null;

  document.addEventListener("htmx:beforeSwap", function (event) {
    kept = null;
    if (event.detail.target !== document.getElementById("main")) return;
    kept = new Map();
    event.detail.target.querySelectorAll("input[data-keep-value]").forEach(function (input) {
      if (input.id && input.value) kept.set(input.id, input.value);
    });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (!kept) return;
    kept.forEach(function (value, id) {
      const input = document.getElementById(id);
      if (input && input.matches("[data-keep-value]") && !input.value) input.value = value;
    });
    kept = null;
  });

  // Show password, and the rules while typing ---------------------------------------

  let uid = 0;

  function passwordEnhance(input) {
    if (input.dataset.enhanced) return;
    input.dataset.enhanced = "true";
    const id = input.id || "password-" + (++uid);
    input.id = id;

    // A button at the field's end: its name stays "Show password"; aria-pressed says
    // whether the password is shown.
    const group = document.createElement("div");
    group.className = "input-group has-validation password-group";
    input.parentNode.insertBefore(group, input);
    group.appendChild(input);
    const toggle = document.createElement("button");
    toggle.type = "button";
    toggle.className = "btn btn-outline-secondary password-toggle";
    toggle.setAttribute("aria-pressed", "false");
    toggle.setAttribute("aria-controls", id);
    // Its name is "Show password" in the page's language; only "Show" is seen.
    toggle.setAttribute("aria-label", t("showPassword"));
    toggle.textContent = t("show");
    toggle.addEventListener("click", function () {
      const show = input.type === "password";
      input.type = show ? "text" : "password";
      toggle.setAttribute("aria-pressed", String(show));
      toggle.classList.toggle("active", show);
    });
    group.appendChild(toggle);
    // Hidden again before sending, so password managers see a password field to save.
    const form = input.form;
    if (form && !form.dataset.hidesPasswords) {
      form.dataset.hidesPasswords = "true";
      form.addEventListener("submit", function () {
        form.querySelectorAll(".password-toggle[aria-pressed='true']").forEach(function (b) {
          b.click();
        });
      }, true);
    }

    const url = input.dataset.rulesUrl;
    if (!url) return;
    // The rules this password does not meet yet, beside the field, read politely.
    const rules = document.createElement("div");
    rules.id = id + "-rules";
    rules.className = "form-text password-rules";
    rules.setAttribute("aria-live", "polite");
    group.insertAdjacentElement("afterend", rules);
    const described = input.getAttribute("aria-describedby");
    input.setAttribute("aria-describedby", (described ? described + " " : "") + rules.id);
    input.setAttribute("hx-post", url);
    input.setAttribute("hx-trigger", "input changed delay:" + RULES_DELAY);
    input.setAttribute("hx-target", "#" + rules.id);
    input.setAttribute("hx-swap", "innerHTML");
    // Submitting the form aborts a check in flight, and no check starts while the form
    // is in flight; a check is also dropped while another runs (see rulesSent).
    input.setAttribute("hx-sync", "closest form:abort");
    input.setAttribute("hx-disabled-elt", "unset");
    input.setAttribute("hx-indicator", "unset");
    htmx.process(input);
  }

  // What each field's check in flight was sent, kept in memory (never in the DOM): a
  // check dropped while another ran is asked again once that one answers.
  const rulesSent = new WeakMap();

  document.addEventListener("htmx:configRequest", function (event) {
    const elt = event.detail.elt;
    if (elt.dataset && elt.dataset.rulesUrl) rulesSent.set(elt, elt.value);
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    const elt = event.detail.elt;
    if (!rulesSent.has(elt)) return;
    const sent = rulesSent.get(elt);
    rulesSent.delete(elt);
    if (event.detail.successful && elt.isConnected && elt.value !== sent) {
      htmx.trigger(elt, "input");
    }
  });

  htmx.onLoad(function (root) {
    const scope = root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("input[type='password']")) passwordEnhance(scope);
    scope.querySelectorAll("input[type='password']").forEach(passwordEnhance);
  });
})();
