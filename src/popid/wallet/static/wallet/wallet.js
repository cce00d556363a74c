// Countdown for the presentation QR code (60 s); no inline script under the strict CSP.
(function () {
  "use strict";
  const counter = document.getElementById("qr-countdown");
  if (!counter) return;
  const expires = Number(counter.dataset.expires) * 1000;
  const template = counter.textContent;
  function tick() {
    const left = Math.max(0, Math.round((expires - Date.now()) / 1000));
    counter.textContent = template.replace(/\d+/, String(left));
    if (left <= 0) {
      const qr = document.getElementById("presentation-qr");
      if (qr) qr.classList.add("expired");
      const text = document.getElementById("qr-expired-text");
      if (text) text.hidden = false;
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();
