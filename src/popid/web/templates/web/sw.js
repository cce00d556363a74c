// PopID's service worker (issue #19), served by web.views.service_worker at /sw.js. The rules are
// in web/pwa.py (CONFIG below is its JSON); docs/architecture.md explains them.
"use strict";
const CONFIG = {{ config_json|safe }};
const VERSION = "{{ version }}";
const SHELL = "popid-shell-" + VERSION;   // static files and the offline page: no personal data
const PAGES = "popid-pages";              // the citizen's own pages kept for offline use
const SAVED_AT = "X-PopID-Saved-At";
// The offline page is kept once per language under its own key, and LANGUAGE names the one to show:
// switching language never overwrites an entry in place (the response varies on Cookie and
// Accept-Language, so replacing one cached entry by another is not something to rely on).
// LANGUAGE carries the time it was chosen, so a page's late message never undoes a newer choice.
const LANGUAGE = CONFIG.offlineUrl + "?kept=language";
const CHOSEN_AT = "X-PopID-Chosen-At";
const offlineKey = (language) => CONFIG.offlineUrl + "?lang=" + language;

const portal = CONFIG.portalPages.map((p) => new RegExp(p));
const keep = CONFIG.offlinePages.map((p) => new RegExp(p));
const matches = (rules, path) => rules.some((rule) => rule.test(path));

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const shell = await caches.open(SHELL);
    await shell.addAll(CONFIG.precache);
    await keepOfflinePage(shell, Date.now());
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("popid-shell-") && name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// Record `language` as the one to show, unless a choice made later (`at`, ms) is already recorded.
async function choose(shell, language, at) {
  const chosen = await shell.match(LANGUAGE);
  if (chosen && Number(chosen.headers.get(CHOSEN_AT) || 0) > at) return;
  await shell.put(LANGUAGE, new Response(language, { headers: { [CHOSEN_AT]: String(at) } }));
}

// Fetch the offline page in the language the server gives this browser, keep it, and show it from now on.
async function keepOfflinePage(shell, at) {
  const response = await fetch(new Request(CONFIG.offlineUrl, { credentials: "same-origin" }));
  if (!response.ok) throw new Error("offline page: HTTP " + response.status);
  const language = response.headers.get("Content-Language") || "vi";
  await shell.put(offlineKey(language), response);
  await choose(shell, language, at);
}

// The language the server would answer in: its language cookie where the worker can read cookies
// (the Cookie Store API), else the one the pages last reported.
async function languageToShow(shell) {
  if (self.cookieStore) {
    try {
      const cookie = await self.cookieStore.get(CONFIG.languageCookie);
      if (cookie && cookie.value) return cookie.value;
    } catch (error) { /* no cookie access here: use what the pages said */ }
  }
  const chosen = await shell.match(LANGUAGE);
  return chosen ? await chosen.text() : "vi";
}

async function forgetPersonalData() {
  await caches.delete(PAGES);
}

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "logout") {
    event.waitUntil(forgetPersonalData().then(() => event.source && event.source.postMessage({ type: "forgotten" })));
  } else if (data.type === "language") {
    // Keep the offline page in the language the citizen reads now.
    event.waitUntil((async () => {
      const shell = await caches.open(SHELL);
      const at = Number(data.at) || Date.now();
      if (await shell.match(offlineKey(data.language), { ignoreVary: true })) {
        await choose(shell, data.language, at);
        return;
      }
      try { await keepOfflinePage(shell, at); } catch (e) { /* offline: keep the page we have */ }
    })());
  }
});

async function offlinePage() {
  const shell = await caches.open(SHELL);
  const language = await languageToShow(shell);
  const options = { ignoreVary: true };
  return (await shell.match(offlineKey(language), options)) || (await shell.match(offlineKey("vi"), options)) ||
    (await shell.match(offlineKey("en"), options)) ||
    new Response("Offline", { status: 503, headers: { "Content-Type": "text/plain; charset=utf-8" } });
}

async function fresh(cached) {
  const saved = Number(cached.headers.get(SAVED_AT) || 0);
  return Date.now() - saved < CONFIG.maxAgeDays * 86400000;
}

async function page(request, url) {
  const path = url.pathname;
  try {
    const response = await fetch(request);
    const landedOnLogin = response.redirected && matches(CONFIG.loginPaths.map((p) => new RegExp("^" + p + "$")),
      new URL(response.url).pathname);
    if (landedOnLogin) {
      await forgetPersonalData();   // the session ended: what it saved goes with it
    } else if (matches(keep, path) && response.ok && !response.redirected &&
               (response.headers.get("Content-Type") || "").startsWith("text/html")) {
      const body = await response.clone().blob();
      const headers = new Headers(response.headers);
      headers.set(SAVED_AT, String(Date.now()));
      const copy = new Response(body, { status: response.status, statusText: response.statusText, headers });
      const pages = await caches.open(PAGES);
      await pages.put(new Request(url.origin + path), copy);
    }
    return response;
  } catch (error) {
    if (matches(keep, path)) {
      const pages = await caches.open(PAGES);
      const cached = await pages.match(new Request(url.origin + path));
      if (cached && await fresh(cached)) return cached;
    }
    return offlinePage();
  }
}

async function staticFile(request) {
  const shell = await caches.open(SHELL);
  const cached = await shell.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const response = await fetch(request);
  if (response.ok && response.type === "basic") await shell.put(request, response.clone());
  return response;
}

async function leaving(request) {
  await forgetPersonalData();
  try {
    return await fetch(request);
  } catch (error) {
    return offlinePage();
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && (CONFIG.logoutPaths.includes(url.pathname) || CONFIG.loginPaths.includes(url.pathname))) {
    event.respondWith(leaving(request));
    return;
  }
  if (request.method !== "GET" || url.pathname.startsWith("/api/")) return;
  if (url.pathname.startsWith(CONFIG.staticPrefix)) {
    event.respondWith(staticFile(request));
  } else if (request.mode === "navigate" && matches(portal, url.pathname)) {
    event.respondWith(page(request, url));
  }
});
