// Proof-of-work for logins from an address with many failures (core/throttle.py).
// Finds a decimal counter such that SHA-256(challenge + ":" + counter) starts with `bits`
// zero bits, writes it into the form's pow_solution field and re-enables the submit button.
// Loaded as a static file: the strict CSP allows no inline script.
(function () {
  "use strict";

  function zeroBits(bytes) {
    var count = 0;
    for (var i = 0; i < bytes.length; i += 1) {
      if (bytes[i] === 0) { count += 8; continue; }
      return count + Math.clz32(bytes[i]) - 24;
    }
    return count;
  }

  async function solve(challenge, bits) {
    var encoder = new TextEncoder();
    var batch = 512;
    for (var start = 0; start < 1e9; start += batch) {
      var digests = [];
      for (var n = start; n < start + batch; n += 1) {
        digests.push(crypto.subtle.digest("SHA-256", encoder.encode(challenge + ":" + n)));
      }
      var results = await Promise.all(digests);
      for (var k = 0; k < results.length; k += 1) {
        if (zeroBits(new Uint8Array(results[k])) >= bits) { return String(start + k); }
      }
    }
    throw new Error("no solution");
  }

  function start() {
    var input = document.querySelector("input[name='pow_challenge'][data-pow-bits]");
    if (!input || !input.value) { return; }
    var form = input.form;
    var solution = form.querySelector("input[name='pow_solution']");
    var status = document.getElementById("pow-status");
    var buttons = form.querySelectorAll("button[type='submit'], input[type='submit']");
    buttons.forEach(function (b) { b.disabled = true; });
    if (!window.crypto || !crypto.subtle) {
      if (status) { status.textContent = status.dataset.powFailed; }
      return;
    }
    solve(input.value, parseInt(input.dataset.powBits, 10)).then(function (answer) {
      solution.value = answer;
      buttons.forEach(function (b) { b.disabled = false; });
      if (status) { status.textContent = status.dataset.powDone; }
      form.dataset.powSolved = "1";
    }, function () {
      if (status) { status.textContent = status.dataset.powFailed; }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
