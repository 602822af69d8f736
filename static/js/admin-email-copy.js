// The email copy editor in the admin (change_form.html), on top of its htmx live preview:
// preview widths and colours, the preview's scroll kept as it re-renders on each
// keystroke, the fields in error marked as they are typed, and placeholders inserted at
// the cursor. A static file, as the admin's CSP allows no inline script; without
// JavaScript none of this runs and the page says that saving the draft checks the copy.
(function () {
  "use strict";

  const FORM = "#emailcopy_form";
  const PANEL = ".copy-preview-panel";
  const PREVIEW_ID = "copy-preview";
  const ERRORS_ID = "copy-preview-errors";

  function panel() {
    return document.querySelector(PANEL);
  }

  // The copy's own fields: the text inputs and text areas of the fieldsets.
  function copyFields() {
    return Array.from(
      document.querySelectorAll(".copy-fields textarea, .copy-fields input[type='text']"),
    );
  }

  // Preview modes --------------------------------------------------------------------

  // The iframe's address for the chosen colours: ?scheme=dark has the server turn the
  // layout's dark rules on (an iframe's prefers-color-scheme follows the admin page).
  function frameSource(src, scheme) {
    const url = new URL(src, document.baseURI);
    if (scheme === "dark") url.searchParams.set("scheme", "dark");
    else url.searchParams.delete("scheme");
    return url.pathname + url.search;
  }

  // Make the preview show the panel's modes; the width is CSS on data-width alone.
  function modesApply() {
    const box = panel();
    if (!box) return;
    const frame = box.querySelector("iframe.copy-preview-html");
    if (!frame) return;
    const src = frame.getAttribute("src");
    const wanted = frameSource(src, box.dataset.scheme);
    // Only when it differs: each load of the iframe starts it at the top again.
    if (src !== wanted) frame.setAttribute("src", wanted);
  }

  function modesRead() {
    const box = panel();
    if (!box) return;
    // From the radios, which a browser may restore to their state before a reload.
    const width = box.querySelector("input[name='preview_width']:checked");
    const scheme = box.querySelector("input[name='preview_scheme']:checked");
    box.dataset.width = width ? width.value : "desktop";
    box.dataset.scheme = scheme ? scheme.value : "light";
    modesApply();
  }

  function modesSetUp() {
    const box = panel();
    const modes = box && box.querySelector(".copy-preview-modes");
    if (!modes) return;
    modes.hidden = false;
    // A mode is no change of the copy: keep its input from re-rendering the preview
    // (htmx listens for input on the whole form).
    for (const type of ["input", "change"]) {
      modes.addEventListener(type, function (event) {
        event.stopPropagation();
        if (type === "change") modesRead();
      });
    }
    modesRead();
    // Tests are sent over htmx: shown only where it runs.
    const tests = box.querySelector(".copy-test-send");
    if (tests) tests.hidden = false;
    // Choosing who gets a test is no change of the copy either.
    const recipient = document.getElementById("test-send-to");
    if (recipient) {
      for (const type of ["input", "change"]) {
        recipient.addEventListener(type, (event) => event.stopPropagation());
      }
    }
  }

  // Scroll kept ----------------------------------------------------------------------

  // Where the panel (a scroll box beside the fields on wide screens) and the text part
  // were scrolled to. The iframe is sandboxed (an opaque origin, also by its CSP), so its
  // own scroll can be neither read nor set from here; it is tall enough for an email
  // not to need one, and the panel around it scrolls instead.
  const kept = { panel: 0, text: 0 };

  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== PREVIEW_ID) return;
    const box = panel();
    const preview = event.detail.target;
    // Only from a full preview: the short list of errors scrolls no one anywhere, and the
    // place kept before it comes back once the copy is fixed.
    if (!box || !preview.querySelector("iframe")) return;
    kept.panel = box.scrollTop;
    const text = preview.querySelector(".copy-preview-text");
    kept.text = text ? text.scrollTop : 0;
  });

  function scrollRestore(preview) {
    const box = panel();
    if (!box || !preview.querySelector("iframe")) return;
    const text = preview.querySelector(".copy-preview-text");
    if (text) text.scrollTop = kept.text;
    box.scrollTop = kept.panel;
  }

  // Fields marked --------------------------------------------------------------------

  // preview.html names the fields in error; mark those (aria-invalid, an outline, and the
  // preview's list of errors as their description) and clear the others.
  function invalidMark(preview) {
    const list = preview.querySelector(".copy-preview-invalid");
    if (!list) return;
    const names = new Set((list.dataset.fields || "").split(/\s+/).filter(Boolean));
    for (const field of copyFields()) {
      const wrong = names.has(field.name);
      const described = (field.getAttribute("aria-describedby") || "")
        .split(/\s+/)
        .filter((id) => id && id !== ERRORS_ID);
      if (wrong) {
        field.setAttribute("aria-invalid", "true");
        described.push(ERRORS_ID);
      } else {
        // Also clears the mark a refused save left, once the live check passes.
        field.removeAttribute("aria-invalid");
      }
      field.classList.toggle("copy-field-invalid", wrong);
      if (described.length) field.setAttribute("aria-describedby", described.join(" "));
      else field.removeAttribute("aria-describedby");
    }
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    const preview = event.detail.target;
    if (!preview || preview.id !== PREVIEW_ID) return;
    modesApply();
    invalidMark(preview);
    scrollRestore(preview);
  });

  // Placeholders inserted ------------------------------------------------------------

  let lastField = null; // the copy field last focused; the body if none

  function placeholderInsert(text) {
    const field = lastField || document.querySelector(".copy-fields textarea[name='body']");
    if (!field) return;
    const focused = field === lastField;
    field.focus();
    if (!focused) field.setSelectionRange(field.value.length, field.value.length);
    // insertText keeps the browser's undo and fires input itself; where it is gone, put
    // the text in by hand and say so with an input event, so the preview follows.
    const inserted = document.execCommand && document.execCommand("insertText", false, text);
    if (!inserted) {
      field.setRangeText(text, field.selectionStart, field.selectionEnd, "end");
      field.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }

  function placeholdersSetUp() {
    const form = document.querySelector(FORM);
    if (!form) return;
    form.addEventListener("focusin", function (event) {
      if (copyFields().includes(event.target)) lastField = event.target;
    });
    for (const button of document.querySelectorAll(".copy-insert")) {
      const code = button.parentElement.querySelector(".copy-placeholder-code");
      if (code) code.hidden = true;
      button.hidden = false;
      button.addEventListener("click", function () {
        placeholderInsert(button.dataset.insert);
      });
    }
    const hint = document.querySelector(".copy-insert-hint");
    if (hint) hint.hidden = false;
  }

  // Publishing time ------------------------------------------------------------------

  // The field takes the admin's zone (named in its label); say what that time is here,
  // in the browser's own zone and words, so nobody converts by hand.
  function publishTimeSetUp() {
    const field = document.querySelector("input[name='publish_at']");
    const hint = document.getElementById("publish-at-local");
    if (!field || !hint) return;
    const offset = Number(hint.dataset.offsetMinutes || 0);
    const show = function () {
      const [date, time] = (field.value || "").split("T");
      if (!date || !time) {
        hint.textContent = "";
        return;
      }
      const [year, month, day] = date.split("-").map(Number);
      const [hour, minute] = time.split(":").map(Number);
      const moment = new Date(Date.UTC(year, month - 1, day, hour, minute) - offset * 60000);
      if (Number.isNaN(moment.getTime())) {
        hint.textContent = "";
        return;
      }
      const local = moment.toLocaleString(document.documentElement.lang || undefined, {
        dateStyle: "medium",
        timeStyle: "short",
      });
      hint.textContent = hint.dataset.template.replace("{time}", local);
    };
    field.addEventListener("input", show);
    show();
  }

  function setUp() {
    publishTimeSetUp();
    if (!panel()) return;
    for (const loading of document.querySelectorAll(".copy-preview-loading")) {
      loading.hidden = false;
    }
    modesSetUp();
    placeholdersSetUp();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUp);
  else setUp();
})();
