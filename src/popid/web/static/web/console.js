// PopID console: small progressive enhancements only (the console works without JavaScript).
// Served as a static file so the strict CSP (script-src 'self') holds: no inline handlers.
"use strict";
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
