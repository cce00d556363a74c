// The installable app's page side (issue #19; no inline script, the CSP forbids it):
// registers the service worker (/sw.js, rules in web/pwa.py), keeps its offline page in the
// page's language, says when the page is a saved copy read without network, and deletes the
// saved pages before the logout form leaves (the worker deletes them too when it sees the POST).
(function () {
  "use strict";
  var PAGES_CACHE = "popid-pages";

  function forgetSavedPages() {
    var jobs = [];
    if (window.caches) jobs.push(window.caches.delete(PAGES_CACHE).catch(function () { return false; }));
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "logout" });
    }
    return Promise.all(jobs);
  }

  function guardLogout() {
    document.querySelectorAll("form[data-logout]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (form.dataset.cleared === "1") return;
        event.preventDefault();
        forgetSavedPages().then(function () {
          form.dataset.cleared = "1";
          form.submit();
        });
      });
    });
  }

  function showOfflineState() {
    var offline = navigator.onLine === false;
    var banner = document.getElementById("offline-banner");
    if (banner) banner.hidden = !offline;
    document.documentElement.classList.toggle("is-offline", offline);
    // Sending a form needs the network: say so on its button instead of failing on submit.
    document.querySelectorAll("main form[method='post'] button[type='submit'], main form[method='POST'] button[type='submit']")
      .forEach(function (button) {
        if (button.closest("form[data-logout]")) return;  // logging out offline still forgets the saved pages
        if (offline) {
          if (!button.disabled) { button.disabled = true; button.dataset.offlineDisabled = "1"; }
        } else if (button.dataset.offlineDisabled === "1") {
          button.disabled = false; delete button.dataset.offlineDisabled;
        }
      });
  }

  function register() {
    if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
    var meta = document.querySelector("meta[name='popid-service-worker']");
    if (!meta) return;
    navigator.serviceWorker.register(meta.content, { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      var language = document.documentElement.lang || "vi";
      if (registration.active && navigator.onLine !== false) {
        registration.active.postMessage({ type: "language", language: language, at: Date.now() });
      }
      document.documentElement.dataset.serviceWorker = "ready";
    }).catch(function () { /* no worker: the portal works online as before */ });
  }

  document.addEventListener("DOMContentLoaded", function () {
    guardLogout();
    showOfflineState();
    window.addEventListener("online", showOfflineState);
    window.addEventListener("offline", showOfflineState);
    document.querySelectorAll("[data-reload]").forEach(function (button) {
      button.addEventListener("click", function () { window.location.reload(); });
    });
    register();
  });
})();
