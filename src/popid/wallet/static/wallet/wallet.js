// The web wallet's small script (no inline script under the strict CSP):
// - the 60-second countdown of a presentation QR code;
// - browser-held holder keys: a non-extractable ECDSA P-256 key made with WebCrypto and kept in
//   IndexedDB, one per citizen; its public JWK goes to the server when a document is added, and
//   it signs the Key Binding JWT when a document is presented.
(function () {
  "use strict";

  function countdown() {
    const counter = document.getElementById("qr-countdown");
    if (!counter) return;
    const expires = Number(counter.dataset.expires) * 1000;
    const template = counter.textContent;
    function tick() {
      const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
      counter.textContent = template.replace(/\d+/, String(left));
      if (left <= 0) {
        for (const id of ["presentation-qr", "presentation-qr-full"]) {
          const qr = document.getElementById(id);
          if (qr) qr.classList.add("expired");
        }
        const text = document.getElementById("qr-expired-text");
        if (text) text.hidden = false;
        return;
      }
      window.setTimeout(tick, 1000);
    }
    tick();
  }

  const DB = "popid-wallet";
  const STORE = "holder-keys";

  function openDb() {
    return new Promise(function (resolve, reject) {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = function () { request.result.createObjectStore(STORE); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function withStore(mode, action) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        const tx = db.transaction(STORE, mode);
        const request = action(tx.objectStore(STORE));
        tx.oncomplete = function () { resolve(request.result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }

  function getKey(name) {
    return withStore("readonly", function (store) { return store.get(name); });
  }

  function keyFor(name) {
    return getKey(name).then(function (existing) {
      if (existing) return existing;
      return crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"])
        .then(function (pair) {
          return withStore("readwrite", function (store) { return store.put(pair, name); }).then(function () {
            return pair;
          });
        });
    });
  }

  function base64url(buffer) {
    let text = "";
    new Uint8Array(buffer).forEach(function (b) { text += String.fromCharCode(b); });
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function browserKeys() {
    const forms = document.querySelectorAll("form.browser-key-form");
    if (!forms.length || !window.crypto || !crypto.subtle || !window.indexedDB) return;
    forms.forEach(function (form) {
      form.hidden = false;
      form.addEventListener("submit", function (event) {
        const field = form.querySelector("input[name=holder_jwk]");
        if (field.value) return;
        event.preventDefault();
        keyFor(form.dataset.keyName)
          .then(function (pair) { return crypto.subtle.exportKey("jwk", pair.publicKey); })
          .then(function (jwk) {
            field.value = JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
            form.submit();
          });
      });
    });
  }

  function signPresentation() {
    const form = document.getElementById("sign-form");
    if (!form) return;
    const fail = function () {
      document.getElementById("sign-error").hidden = false;
      document.getElementById("sign-status").hidden = true;
    };
    if (!window.crypto || !crypto.subtle || !window.indexedDB) { fail(); return; }
    getKey(form.dataset.keyName).then(function (pair) {
      if (!pair) { fail(); return; }
      const data = new TextEncoder().encode(form.dataset.signingInput);
      return crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, data).then(function (sig) {
        form.querySelector("input[name=signature]").value = base64url(sig);  // P1363 r||s = JWS ES256
        form.submit();
      });
    }).catch(fail);
  }

  countdown();
  browserKeys();
  signPresentation();
})();
