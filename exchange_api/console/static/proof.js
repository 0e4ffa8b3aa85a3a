// Verifies an audit entry's inclusion proof in the browser, from the page's #proof-data block:
// the RFC 6962 leaf hash of the entry's exact bytes, then the root from the audit path by the
// RFC 9162 §2.1.3.2 algorithm, compared with the root of the signed checkpoint. The checkpoint's
// signatures are verified by the server (shown on the page); this script trusts nothing else the
// server computed. Loaded as a static file (the console's CSP forbids inline scripts); under Node
// it exports `verifyProof` for the test suite and touches no DOM.
"use strict";

(function () {
  const subtle = () => (globalThis.crypto && globalThis.crypto.subtle) || null;

  function hexToBytes(hex) {
    if (typeof hex !== "string" || hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) {
      throw new Error("not lowercase hex: " + String(hex).slice(0, 80));
    }
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }

  function bytesToHex(bytes) {
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function base64ToBytes(text) {
    const raw = atob(text);
    const out = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  async function sha256(...parts) {
    const total = parts.reduce((n, p) => n + p.length, 0);
    const buf = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      buf.set(p, at);
      at += p.length;
    }
    return new Uint8Array(await subtle().digest("SHA-256", buf));
  }

  const LEAF = Uint8Array.of(0x00);
  const NODE = Uint8Array.of(0x01);

  // The C2SP checkpoint body: origin, decimal tree size, base64 root hash (then optional lines).
  function parseCheckpoint(text) {
    const lines = String(text).split("\n");
    if (lines.length < 4 || !/^[1-9][0-9]*$|^0$/.test(lines[1])) {
      throw new Error("the checkpoint is not origin / size / root");
    }
    const root = base64ToBytes(lines[2]);
    if (root.length !== 32) throw new Error("the checkpoint's root is not 32 bytes");
    return { origin: lines[0], size: BigInt(lines[1]), root: root };
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  // Returns {ok, reason, leaf, root, expectedRoot, size}; reason is one of
  // leaf_mismatch, index_out_of_range, proof_too_long, proof_too_short, root_mismatch (or ok).
  async function verifyProof(data) {
    const checkpoint = parseCheckpoint(data.checkpoint);
    const entryBytes = new TextEncoder().encode(data.entry);
    const leaf = await sha256(LEAF, entryBytes);
    const out = {
      ok: false,
      reason: "",
      leaf: bytesToHex(leaf),
      root: "",
      expectedRoot: bytesToHex(checkpoint.root),
      size: checkpoint.size.toString(),
    };
    if (!equal(leaf, hexToBytes(data.leaf_hash))) {
      out.reason = "leaf_mismatch";
      return out;
    }
    const index = BigInt(data.index);
    const size = checkpoint.size;
    if (index >= size) {
      out.reason = "index_out_of_range";
      return out;
    }
    // RFC 9162 §2.1.3.2.
    let fn = index;
    let sn = size - 1n;
    let r = leaf;
    for (const hex of data.proof) {
      const p = hexToBytes(hex);
      if (sn === 0n) {
        out.reason = "proof_too_long";
        return out;
      }
      if ((fn & 1n) === 1n || fn === sn) {
        r = await sha256(NODE, p, r);
        if ((fn & 1n) === 0n) {
          while ((fn & 1n) === 0n && fn !== 0n) {
            fn >>= 1n;
            sn >>= 1n;
          }
        }
      } else {
        r = await sha256(NODE, r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    out.root = bytesToHex(r);
    if (sn !== 0n) {
      out.reason = "proof_too_short";
      return out;
    }
    if (!equal(r, checkpoint.root)) {
      out.reason = "root_mismatch";
      return out;
    }
    out.ok = true;
    out.reason = "ok";
    return out;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (m, name) => (name in values ? values[name] : m));
  }

  async function run() {
    const block = document.getElementById("proof-data");
    const panel = document.querySelector("[data-testid=proof-result]");
    if (!block || !panel) return;
    const say = (key, values, cls) => {
      panel.textContent = fill(panel.dataset[key] || key, values || {});
      panel.classList.remove("checking");
      panel.classList.add(cls);
    };
    if (!subtle()) {
      say("msgNoCrypto", {}, "warn");
      return;
    }
    let result;
    try {
      result = await verifyProof(JSON.parse(block.textContent));
    } catch (err) {
      say("msgError", { error: String(err && err.message ? err.message : err) }, "bad");
      return;
    }
    const leafOut = document.querySelector("[data-testid=proof-computed-leaf]");
    const rootOut = document.querySelector("[data-testid=proof-computed-root]");
    if (leafOut) leafOut.textContent = result.leaf;
    if (rootOut) rootOut.textContent = result.root || "—";
    const keys = {
      ok: "msgOk",
      leaf_mismatch: "msgLeafMismatch",
      index_out_of_range: "msgIndexOutOfRange",
      proof_too_long: "msgProofLength",
      proof_too_short: "msgProofLength",
      root_mismatch: "msgRootMismatch",
    };
    say(keys[result.reason] || "msgError", result, result.ok ? "ok" : "bad");
    panel.dataset.verified = result.ok ? "true" : "false";
  }

  if (typeof module !== "undefined" && module.exports) {
    module.exports = { verifyProof: verifyProof, parseCheckpoint: parseCheckpoint };
  }
  if (typeof document !== "undefined") {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
    else run();
  }
})();
