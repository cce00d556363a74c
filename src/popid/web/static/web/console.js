// PopID console: small progressive enhancements only (the console works without JavaScript).
// Served as a static file so the strict CSP (script-src 'self') holds: no inline handlers.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});

// Area menus of the navigation (<details>): one open at a time, closed by Escape or a click elsewhere.
document.addEventListener("toggle", (event) => {
  const group = event.target;
  if (!(group instanceof HTMLDetailsElement) || !group.matches(".nav-group") || !group.open) return;
  document.querySelectorAll(".nav-group[open]").forEach((other) => { if (other !== group) other.open = false; });
}, true);
document.addEventListener("click", (event) => {
  if (event.target.closest(".nav-group")) return;
  document.querySelectorAll(".nav-group[open]").forEach((group) => { group.open = false; });
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  const open = document.querySelector(".nav-group[open]");
  if (open) {
    open.open = false;
    open.querySelector("summary").focus();
  }
});
