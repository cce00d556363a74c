/* Verifies the citizen's access history in the browser, trusting nothing the server computed:
 * 1. the checkpoint note's Ed25519 signature (WebCrypto) with the ledger's public key;
 * 2. for every entry: commitment = SHA-256(salt ‖ canonical JSON of the record), leaf data =
 *    0x01 ‖ uint64 index ‖ commitment, leaf hash = SHA-256(0x00 ‖ leaf data) (RFC 9162), then the
 *    audit path up to the signed root (RFC 9162 §2.1.3.2);
 * 3. the person's ordinary entries are numbered 0, 1, 2, … (none withheld between two shown);
 * 4. completeness: for each of the person's ID numbers, the head signed in the checkpoint's person
 *    map (sparse Merkle tree, popid.ledger.personmap: count, last index and hash chain of the
 *    ordinary entries) is the head of exactly the entries shown — a deleted, reordered or hidden
 *    newest entry fails here.
 * Same rules as popid.ledger.bundle.verify_bundle; format in docs/ledger.md. No inline script:
 * the data comes from the <script type="application/json" id="ledger-bundle"> element. */
(function () {
  "use strict";

  const encoder = new TextEncoder();

  function fromBase64(text) {
    const binary = atob(text);
    const out = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  function fromBase64Url(text) {
    const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
    return fromBase64(padded);
  }

  function concat(parts) {
    const length = parts.reduce((sum, p) => sum + p.length, 0);
    const out = new Uint8Array(length);
    let offset = 0;
    for (const p of parts) { out.set(p, offset); offset += p.length; }
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  const leafHash = (data) => sha256(concat([Uint8Array.of(0), data]));
  const nodeHash = (left, right) => sha256(concat([Uint8Array.of(1), left, right]));

  /* Canonical JSON as the server writes it: sorted keys, no whitespace, integers only. */
  function canonical(value) {
    if (value === null) return "null";
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    if (typeof value === "object") {
      return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
    }
    if (typeof value === "number" && !Number.isInteger(value)) throw new Error("non-integer number");
    return JSON.stringify(value);
  }

  async function entryLeaf(entry) {
    const commitment = await sha256(concat([fromBase64(entry.salt), encoder.encode(canonical(entry.content))]));
    const data = new Uint8Array(41);
    data[0] = 1;
    new DataView(data.buffer).setBigUint64(1, BigInt(entry.index), false);
    data.set(commitment, 9);
    return leafHash(data);
  }

  /* RFC 9162 §2.1.3.2 */
  async function rootFromInclusion(index, size, leaf, path) {
    if (index >= size) throw new Error("index out of range");
    let fn = BigInt(index), sn = BigInt(size - 1), r = leaf;
    for (const p of path) {
      if (sn === 0n) throw new Error("proof too long");
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        if ((fn & 1n) === 0n) {
          while (fn !== 0n && (fn & 1n) === 0n) { fn >>= 1n; sn >>= 1n; }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n; sn >>= 1n;
    }
    if (sn !== 0n) throw new Error("proof too short");
    return r;
  }

  /* RFC 9162 §2.1.4.2: is the tree of size `second` an extension of the one of size `first`? */
  async function verifyConsistency(first, second, path, firstRoot, secondRoot) {
    if (first === second) return path.length === 0 && equal(firstRoot, secondRoot);
    if (first > second || path.length === 0) return false;
    const nodes = (first & (first - 1)) === 0 ? [firstRoot, ...path] : path.slice();
    let fn = BigInt(first - 1), sn = BigInt(second - 1);
    while ((fn & 1n) === 1n) { fn >>= 1n; sn >>= 1n; }
    let fr = nodes[0], sr = nodes[0];
    for (const c of nodes.slice(1)) {
      if (sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        fr = await nodeHash(c, fr);
        sr = await nodeHash(c, sr);
        if ((fn & 1n) === 0n) {
          while (fn !== 0n && (fn & 1n) === 0n) { fn >>= 1n; sn >>= 1n; }
        }
      } else {
        sr = await nodeHash(sr, c);
      }
      fn >>= 1n; sn >>= 1n;
    }
    return sn === 0n && equal(fr, firstRoot) && equal(sr, secondRoot);
  }

  /* The person map (popid.ledger.personmap): key = SHA-256("popid-ledger/person-key/v1\n" ‖ ID number),
   * chain cⱼ₊₁ = SHA-256(0x04 ‖ cⱼ ‖ leaf), head value = count u64 ‖ last index u64 ‖ chain,
   * map leaf = SHA-256(0x02 ‖ key ‖ SHA-256(value)), node = SHA-256(0x03 ‖ left ‖ right). */
  const personKey = (idNumber) => sha256(encoder.encode("popid-ledger/person-key/v1\n" + idNumber));
  const bitOf = (key, depth) => (key[depth >> 3] >> (7 - (depth & 7))) & 1;

  async function headDigest(entries) {
    let chain = new Uint8Array(32);
    for (const [, leaf] of entries) chain = await sha256(concat([Uint8Array.of(4), chain, leaf]));
    const value = new Uint8Array(48);
    const view = new DataView(value.buffer);
    view.setBigUint64(0, BigInt(entries.length), false);
    view.setBigUint64(8, BigInt(entries[entries.length - 1][0]), false);
    value.set(chain, 16);
    return sha256(value);
  }

  /* Checks the signed head of one ID number against its shown entries [(index, leaf)] in
   * person_seq order; returns "" when it holds, else why not. */
  async function checkHead(item, entries, mapRoot) {
    const key = await personKey(item.id_number);
    const siblings = item.proof.siblings.map(fromBase64);
    const terminal = item.proof.terminal;
    if (siblings.length < 1 || siblings.length > 256) return "malformed head proof";
    let current = new Uint8Array(32);
    let termKey = null, termDigest = null;
    if (terminal) {
      termKey = fromBase64(terminal.key);
      termDigest = fromBase64(terminal.digest);
      if (termKey.length !== 32 || termDigest.length !== 32) return "malformed head proof";
      if (!equal(termKey, key)) {
        for (let d = 0; d < siblings.length; d++) if (bitOf(termKey, d) !== bitOf(key, d)) return "bad head proof";
      }
      current = await sha256(concat([Uint8Array.of(2), termKey, termDigest]));
    }
    for (let d = siblings.length - 1; d >= 0; d--) {
      const s = siblings[d];
      current = await sha256(bitOf(key, d) === 0 ? concat([Uint8Array.of(3), current, s])
                                                 : concat([Uint8Array.of(3), s, current]));
    }
    if (!equal(current, mapRoot)) return "the head proof does not lead to the signed person-map root";
    const mine = termKey !== null && equal(termKey, key);
    if (!mine) return entries.length ? "no signed head, yet entries are shown" : "";
    if (!entries.length) return `the signed head counts ${item.head ? item.head.count : "some"} entries, none shown`;
    if (!equal(await headDigest(entries), termDigest)) {
      const signedCount = item.head ? item.head.count : null;
      if (signedCount !== null && signedCount > entries.length) {
        return `the signed head counts ${signedCount} entries, ${entries.length} shown: newest entries missing`;
      }
      return "the shown entries differ from the signed head (deleted, reordered or hidden)";
    }
    return "";
  }

  const toBase64 = (bytes) => btoa(String.fromCharCode(...bytes));
  const SEEN_KEY = "popid-ledger-last-checkpoint";

  /* The log only grows: the checkpoint this browser saw last must be a prefix of today's. */
  async function checkAgainstLastSeen(parsed, panel) {
    const cell = document.getElementById("ledger-consistency");
    if (!cell) return true;
    let seen = null;
    try { seen = JSON.parse(localStorage.getItem(SEEN_KEY) || "null"); } catch (error) { seen = null; }
    let ok = true;
    if (seen && Number.isInteger(seen.size) && typeof seen.root === "string") {
      try {
        if (seen.size > parsed.size) throw new Error("the log shrank");
        const url = `${panel.dataset.consistencyUrl}?first=${seen.size}&second=${parsed.size}`;
        const response = await fetch(url, { credentials: "omit", headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const body = await response.json();
        ok = await verifyConsistency(seen.size, parsed.size, body.consistency_path.map(fromBase64),
                                     fromBase64(seen.root), parsed.root);
      } catch (error) {
        ok = false;
        cell.title = String(error && error.message ? error.message : error);
      }
      mark(cell, ok ? "ok" : "failed", (ok ? panel.dataset.consistentTemplate : panel.dataset.inconsistentTemplate)
        .replace("{size}", seen.size));
    } else {
      mark(cell, "waiting", panel.dataset.firstVisit);
    }
    if (ok && (!seen || parsed.size >= seen.size)) {
      localStorage.setItem(SEEN_KEY, JSON.stringify({ size: parsed.size, root: toBase64(parsed.root) }));
    }
    return ok;
  }

  function parseNote(note) {
    const split = note.indexOf("\n\n");
    if (split < 0) throw new Error("not a signed note");
    const body = note.slice(0, split + 1);
    const lines = body.split("\n");
    const signatureLine = note.slice(split + 2).split("\n").filter((l) => l)[0] || "";
    const parts = signatureLine.replace(/^\u2014 /, "").split(" ");
    if (lines.length !== 6 || !lines[3].startsWith("map ") || parts.length !== 3 || parts[0] !== "popid-ledger") {
      throw new Error("bad note");
    }
    return { body, size: Number(lines[1]), root: fromBase64(lines[2]), mapRoot: fromBase64(lines[3].slice(4)),
             kid: parts[1], signature: fromBase64(parts[2]) };
  }

  async function verifyNote(note, jwks) {
    const parsed = parseNote(note);
    const jwk = (jwks.keys || []).find((k) => k.kid === parsed.kid);
    if (!jwk || jwk.kty !== "OKP" || jwk.crv !== "Ed25519") throw new Error("unknown key");
    const key = await crypto.subtle.importKey("raw", fromBase64Url(jwk.x), { name: "Ed25519" }, false, ["verify"]);
    const valid = await crypto.subtle.verify({ name: "Ed25519" }, key, parsed.signature, encoder.encode(parsed.body));
    return { parsed, valid };
  }

  /* What the row shows must be what was verified, not other text beside it. */
  function shownMatches(tr, content) {
    const source = document.getElementById("ledger-field-labels");
    const labels = source ? JSON.parse(source.textContent) : {};
    const expected = {
      fields: content.fields.map((f) => labels[f] || f).join(", "), purpose: content.purpose,
      legal_basis: content.legal_basis || "\u2014", consent_ref: content.consent_ref || "\u2014",
    };
    tr.querySelectorAll("[data-content]").forEach((cell) => {
      if (cell.textContent.trim() !== expected[cell.dataset.content]) throw new Error("shown text differs from the record");
    });
  }

  /* Every ID number's signed head against the entries shown; marks #ledger-completeness. */
  async function checkCompleteness(bundle, headEntries, signature) {
    const cell = document.getElementById("ledger-completeness");
    const panel = document.getElementById("ledger-checkpoint");
    let why = "";
    try {
      if (!signature.valid) throw new Error("checkpoint signature");
      const items = new Map((bundle.heads || []).map((item) => [item.id_number, item]));
      for (const idNumber of bundle.id_numbers || []) {
        const item = items.get(idNumber);
        if (!item) { why = `${idNumber}: no signed head`; break; }
        const entries = (headEntries.get(idNumber) || []).sort((a, b) => a[0] - b[0]).map(([, i, leaf]) => [i, leaf]);
        why = await checkHead(item, entries, signature.parsed.mapRoot);
        if (why) { why = `${idNumber}: ${why}`; break; }
      }
      if (!(bundle.id_numbers || []).length) why = "no ID numbers";
    } catch (error) {
      why = String(error && error.message ? error.message : error);
    }
    if (cell) {
      mark(cell, why ? "failed" : "ok", why ? panel.dataset.incomplete : panel.dataset.complete);
      cell.title = why;
    }
    return !why;
  }

  function mark(element, status, label) {
    element.dataset.status = status;
    element.textContent = label;
  }

  async function main() {
    const source = document.getElementById("ledger-bundle");
    const table = document.getElementById("ledger-entries");
    const panel = document.getElementById("ledger-checkpoint");
    const summary = document.getElementById("ledger-summary");
    if (!source || !table || !panel || !summary) return;
    const bundle = JSON.parse(source.textContent);
    const labels = table.dataset;
    const rows = new Map();
    table.querySelectorAll("tr[data-leaf-index]").forEach((tr) => rows.set(Number(tr.dataset.leafIndex), tr));
    const failAll = (why) => {
      rows.forEach((tr) => {
        const status = tr.querySelector(".ledger-status");
        if (status.dataset.status === "pending") { mark(status, "failed", labels.labelFailed); status.title = why; }
      });
    };
    if (!bundle.checkpoint) { failAll("no checkpoint"); return; }

    let signature;
    const signatureCell = document.getElementById("ledger-signature");
    try {
      signature = await verifyNote(bundle.checkpoint.note, bundle.public_keys);
    } catch (error) {
      if (error && error.name === "NotSupportedError") { summary.textContent = summary.dataset.unsupported; return; }
      signature = { valid: false, error };
    }
    mark(signatureCell, signature.valid ? "ok" : "failed",
         signature.valid ? panel.dataset.labelOk : panel.dataset.labelFailed);
    const consistent = signature.valid ? await checkAgainstLastSeen(signature.parsed, panel) : false;

    let ok = 0, failed = 0;
    const chains = new Map();
    const headEntries = new Map();  /* ID number → [[person_seq, index, leaf]] */
    for (const entry of bundle.entries) {
      const tr = rows.get(entry.index);
      if (!tr) continue;
      const status = tr.querySelector(".ledger-status");
      if (entry.content && Number.isInteger(entry.content.person_seq)) {
        /* completeness is about numbering; an entry failing its proof is already shown red */
        const chain = chains.get(entry.content.person) || [];
        chain.push([entry.index, entry.content.person_seq]);
        chains.set(entry.content.person, chain);
      }
      try {
        if (!signature.valid) throw new Error("checkpoint signature");
        const leaf = await entryLeaf(entry);
        if (Number.isInteger(entry.content.person_seq)) {
          const list = headEntries.get(entry.content.person) || [];
          list.push([entry.content.person_seq, entry.index, leaf]);
          headEntries.set(entry.content.person, list);
        }
        if (!equal(leaf, fromBase64(entry.leaf_hash))) throw new Error("record does not match the committed leaf");
        const root = await rootFromInclusion(entry.index, signature.parsed.size, leaf, entry.audit_path.map(fromBase64));
        if (!equal(root, signature.parsed.root)) throw new Error("root mismatch");
        shownMatches(tr, entry.content);
        mark(status, "ok", labels.labelOk);
        ok++;
      } catch (error) {
        mark(status, "failed", labels.labelFailed);
        status.title = String(error && error.message ? error.message : error);
        failed++;
      }
    }
    failAll("not in the bundle");
    failed = table.querySelectorAll('.ledger-status[data-status="failed"]').length;
    let contiguous = true;
    chains.forEach((chain) => {
      chain.sort((a, b) => a[0] - b[0]);
      chain.forEach(([, seq], position) => { if (seq !== position) contiguous = false; });
    });
    const complete = await checkCompleteness(bundle, headEntries, signature);
    const total = rows.size;
    summary.textContent = summary.dataset.template.replace("{ok}", ok).replace("{total}", total)
      .replace("{failed}", failed) + " " + (contiguous ? summary.dataset.chainOk : summary.dataset.chainGap);
    summary.dataset.status = failed || !contiguous || !signature.valid || !consistent || !complete ? "failed" : "ok";
    document.body.dataset.ledgerVerified = "done";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", main);
  else main();
})();
