// Browser hasher: the public contract (design.md "Browser hasher").
//
//   hashFile(blob, {onProgress}) -> Promise<{kind, md5, pdq, pdqQuality, phash[, warning, warningCode,
//                                               warningValues]}>
//   hashPixels(rgba, width, height) -> {pdq, pdqQuality, phash}
//
// hashFile does its work in a module worker so the page stays responsive; only hashes come back.
// `warning` is present (and pdq/pdqQuality/phash are null) when a file looks like an image but this
// browser cannot decode it faithfully: the caller should be told, and the MD5 alone is still usable.
// Messages are English; `warningCode` (with `warningValues`) and a rejection's `error.code` name them, so a page
// can show them in its own language (the caller's page does: cases/caller_views.py caller_texts).

import { pdqFromRGBA } from "./pdq.js";
import { phashFromRGBA } from "./phash.js";

// Pure and synchronous: PDQ (+ quality) and pHash of already decoded, composited RGBA pixels.
// The alpha byte is ignored, as pdqhash ignores a fourth channel.
export function hashPixels(rgba, width, height) {
  if (!(width > 0 && height > 0) || rgba.length < width * height * 4) {
    throw new Error("hashPixels needs width * height * 4 bytes of RGBA pixels.");
  }
  const { pdq, pdqQuality } = pdqFromRGBA(rgba, width, height);
  return { pdq, pdqQuality, phash: phashFromRGBA(rgba, width, height) };
}

let worker = null;
let nextId = 1;
const pending = new Map(); // id -> {resolve, reject, onProgress}

// An Error with the English message and a code a page can translate.
function failure(message, code) {
  return Object.assign(new Error(message), { code });
}

function failAll(message, code) {
  for (const p of pending.values()) p.reject(failure(message, code));
  pending.clear();
  if (worker) worker.terminate();
  worker = null;
}

function getWorker() {
  if (worker) return worker;
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = ({ data }) => {
    const p = pending.get(data.id);
    if (!p) return;
    if (data.progress) {
      if (p.onProgress) {
        try { p.onProgress(data.progress); } catch (e) { console.error(e); }
      }
      return;
    }
    pending.delete(data.id);
    if (data.error) p.reject(failure(data.error, data.code));
    else p.resolve(data.result);
  };
  // A crash (e.g. out of memory) or a worker this browser cannot start.
  worker.onerror = (event) => {
    if (event && event.preventDefault) event.preventDefault();
    failAll("This browser stopped while checking the file. Please close other tabs and try again, " +
      "or use an up-to-date browser.", "crashed");
  };
  worker.onmessageerror = () => failAll("The file could not be passed to the checker. Please try again.",
    "not_passed");
  return worker;
}

// Hash one File or Blob. Resolves with {kind: "image"|"video"|"file", md5, pdq, pdqQuality, phash}
// (image fields null for non-images; plus `warning` when an image could not be decoded here).
// Rejects with an Error whose message can be shown to the person hashing when the file cannot be
// read at all.
// (`stripDecode: true` forces decoding strip by strip from the file, the path used for images too big
// to decode whole; for tests.)
export function hashFile(blob, { onProgress, stripDecode = false } = {}) {
  if (!(blob instanceof Blob)) {
    return Promise.reject(failure("Please choose a file to check.", "no_file"));
  }
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject, onProgress });
    try {
      getWorker().postMessage({ id, blob, options: { stripDecode } });
    } catch (e) {
      pending.delete(id);
      reject(failure("This browser cannot check files here. Please use an up-to-date browser.", "no_worker"));
    }
  });
}
