// cosignatory: check audit-log inclusion proofs in the browser, trusting nothing the
// server computed. For every element with [data-audit-entry] it hashes the entry's
// bytes as an RFC 6962 leaf, folds the inclusion proof (RFC 9162 §2.1.3.2) up to a
// root, and compares that root with the checkpoint's; if the page names the log's
// verifier key, it also checks the checkpoint's Ed25519 signature (C2SP signed-note).
// The server's own verdict is already on the page; this is the second opinion.
"use strict";

(function () {
  function b64(text) {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function concat(...parts) {
    let size = 0;
    for (const p of parts) size += p.length;
    const out = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  function same(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  const leafHash = (entry) => sha256(concat(Uint8Array.of(0), entry));
  const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

  // RFC 9162 §2.1.3.2, with arithmetic instead of 32-bit bit operations.
  async function rootFromProof(leaf, index, size, proof) {
    if (!(index >= 0 && index < size)) throw new Error("leaf index outside the tree");
    let fn = index;
    let sn = size - 1;
    let r = leaf;
    for (const p of proof) {
      if (sn === 0) throw new Error("proof too long");
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new Error("proof too short");
    return r;
  }

  // A signed note: text, a blank line, then "— <name> <base64(key id ‖ signature)>" lines.
  // A verifier key: "<name>+<key id hex>+<base64(0x01 ‖ Ed25519 public key)>".
  async function checkSignature(note, verifierKey) {
    const first = verifierKey.indexOf("+");
    const second = verifierKey.indexOf("+", first + 1);  // the base64 key may contain "+"
    const name = verifierKey.slice(0, first);
    const idHex = verifierKey.slice(first + 1, second);
    const keyB64 = verifierKey.slice(second + 1);
    const key = b64(keyB64);
    if (key[0] !== 1 || key.length !== 33) throw new Error("not an Ed25519 verifier key");
    const split = note.lastIndexOf("\n\n");
    const text = note.slice(0, split + 1);
    const prefix = "\u2014 " + name + " ";
    for (const line of note.slice(split + 2).split("\n")) {
      if (!line.startsWith(prefix)) continue;
      const sig = b64(line.slice(prefix.length));
      const id = Array.from(sig.slice(0, 4), (x) => x.toString(16).padStart(2, "0")).join("");
      if (id !== idHex) continue;
      const publicKey = await crypto.subtle.importKey(
        "raw", key.slice(1), { name: "Ed25519" }, false, ["verify"]);
      return crypto.subtle.verify(
        { name: "Ed25519" }, publicKey, sig.slice(4), new TextEncoder().encode(text));
    }
    return false;
  }

  function say(el, ok, message) {
    el.textContent = message;
    el.classList.remove("pending");
    el.classList.add(ok ? "verified" : "unverified");
  }

  async function verifyAll(section) {
    const root = b64(section.dataset.auditRoot);
    const size = Number(section.dataset.auditSize);
    const sigOut = section.querySelector("[data-audit-signature]");
    if (sigOut && section.dataset.auditNote && section.dataset.auditKey) {
      try {
        const ok = await checkSignature(section.dataset.auditNote, section.dataset.auditKey);
        say(sigOut, ok, ok ? "Your browser checked the checkpoint signature: valid."
          : "Your browser found NO valid signature by the log's key on this checkpoint.");
      } catch (e) {
        say(sigOut, false, "Your browser could not check the signature (" + e.message + ").");
      }
    }
    for (const el of section.querySelectorAll("[data-audit-entry]")) {
      const out = el.querySelector("[data-audit-result]");
      try {
        const leaf = await leafHash(b64(el.dataset.auditEntry));
        const proof = el.dataset.auditProof ? el.dataset.auditProof.split(" ").map(b64) : [];
        const computed = await rootFromProof(leaf, Number(el.dataset.auditIndex), size, proof);
        const ok = same(computed, root);
        say(out, ok, ok ? "Verified in your browser: this entry is in the signed tree."
          : "NOT verified: the proof does not lead to the checkpoint's root.");
      } catch (e) {
        say(out, false, "NOT verified in your browser: " + e.message + ".");
      }
    }
  }

  function start() {
    for (const section of document.querySelectorAll("[data-audit-root]")) {
      if (!window.crypto || !crypto.subtle) {
        for (const out of section.querySelectorAll("[data-audit-result], [data-audit-signature]")) {
          out.textContent = "Your browser can check this itself only over https or on localhost.";
        }
        continue;
      }
      verifyAll(section);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  document.addEventListener("htmx:afterSettle", start);
})();
