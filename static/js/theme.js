// Light or dark as the system prefers, with Bootstrap's colour modes (data-bs-theme on
// <html>), and again whenever the preference changes. Loaded synchronously in <head>,
// before the stylesheets, so the first paint is already in the right mode. htmx swaps
// replace <body>'s content, never <html>, so the attribute survives them. Without
// JavaScript there is no attribute and the page stays light (see site.css).
(function () {
  "use strict";
  const dark = window.matchMedia("(prefers-color-scheme: dark)");

  function follow() {
    document.documentElement.dataset.bsTheme = dark.matches ? "dark" : "light";
  }

  follow();
  dark.addEventListener("change", follow);
})();
