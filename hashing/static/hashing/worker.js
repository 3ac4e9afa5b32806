// Module worker behind hasher.js: streams the MD5, sniffs the kind, decodes images the way the Python
// reference does (design.md "Image decoding rules") and computes PDQ and pHash. Nothing here touches
// the network; the file's bytes never leave this worker.

import { MD5 } from "./md5.js";
import { PdqDownsampler, pdqFrom64, ZERO_HASH } from "./pdq.js";
import { GreyResizer, phashFrom32 } from "./phash.js";
import { imageFormat, latin1, orientedSize, readImageMeta, rowMapping,
  sourceForDecoder } from "./orientation.js";

const MD5_CHUNK = 8 << 20;             // bytes read per step; a 2 GB file is never held whole
const STRIP_PIXELS = 2 << 20;          // pixels per decoded strip
const MAX_TILE = 8192;                 // widest strip drawn at once (canvas limits vary by browser)
// The largest image hashed: the Python reference's MAX_PIXELS (Pillow's decompression-bomb limit); beyond it
// both refuse, so both sides agree on which images get image hashes. (The float buffer is then ~716 MB.)
const MAX_PIXELS = 178956970;
const DECODE = { imageOrientation: "none", colorSpaceConversion: "none", premultiplyAlpha: "none" };

// A problem that still lets us return the MD5: shown to the caller as `warning`. Its `code` (and `values`) let a
// page show it in the caller's language (cases/caller_views.py caller_texts); the message is the English.
class ImageWarning extends Error {
  constructor(message, code, values = {}) {
    super(message);
    this.code = code;
    this.values = values;
  }
}

const FORMAT_NAMES = { jpeg: "JPEG", png: "PNG", webp: "WebP", gif: "GIF", bmp: "BMP", ico: "icon",
  tiff: "TIFF", jxl: "JPEG XL", avif: "AVIF", heif: "HEIC/HEIF" };

self.onmessage = async (event) => {
  const { id, blob, options = {} } = event.data;
  let last = 0;
  const progress = (phase, done, total) => {
    // Throttle to keep the message queue small; always report completion of a phase.
    const now = performance.now();
    if (done < total && now - last < 50) return;
    last = now;
    self.postMessage({ id, progress: { phase, done, total } });
  };
  try {
    self.postMessage({ id, result: await hashBlob(blob, progress, options) });
  } catch (err) {
    self.postMessage({ id, ...readableError(err) });
  }
};

const isReadError = (err) => ["NotReadableError", "NotFoundError", "SecurityError"].includes(err && err.name);
const shortRead = () => new DOMException("The file became shorter while being read.", "NotReadableError");

// {error: English message, code: its name for a page that translates it}
function readableError(err) {
  if (isReadError(err)) {
    return { code: "read", error: "The file could not be read. It may have been moved, deleted or changed while " +
      "it was being checked. Please choose it again." };
  }
  if (err instanceof RangeError) return { code: "memory", error: "There was not enough memory to check this file." };
  return { code: "other", error: "This file could not be checked. Please try again, or choose a different file." };
}

async function hashBlob(blob, progress, options) {
  const head = new Uint8Array(await blob.slice(0, 1024).arrayBuffer());
  if (head.length !== Math.min(1024, blob.size)) throw shortRead();
  const kind = sniffKind(head);
  if (kind !== "image") {
    return { kind, md5: await md5Blob(blob, progress), pdq: null, pdqQuality: null, phash: null };
  }
  // Start decoding first: the browser decodes on its own threads while we stream the MD5.
  const decoding = readImageMeta(blob).then((meta) => startDecode(blob, meta, options.stripDecode));
  decoding.catch(() => {});
  const md5 = await md5Blob(blob, progress);
  try {
    const hashes = await hashImage(await decoding, progress);
    return { kind, md5, ...hashes };
  } catch (err) {
    if (isReadError(err)) throw err;
    // We still have the MD5, so this is a warning, never a guessed hash.
    const known = err instanceof ImageWarning;
    const warning = known ? err.message
      : "This image could not be processed in this browser, so only its exact fingerprint (MD5) was made.";
    return { kind, md5, pdq: null, pdqQuality: null, phash: null, warning,
      warningCode: known ? err.code : "failed", warningValues: known ? err.values : {} };
  }
}

async function md5Blob(blob, progress) {
  const h = new MD5();
  const total = blob.size;
  let next = blob.slice(0, MD5_CHUNK).arrayBuffer();
  for (let pos = 0; pos < total; pos += MD5_CHUNK) {
    const buf = await next;
    // A short read means the file changed under us: an MD5 of fewer bytes would be silently wrong.
    if (buf.byteLength !== Math.min(MD5_CHUNK, total - pos)) throw shortRead();
    if (pos + MD5_CHUNK < total) next = blob.slice(pos + MD5_CHUNK, pos + 2 * MD5_CHUNK).arrayBuffer();
    h.update(new Uint8Array(buf));
    progress("md5", Math.min(total, pos + MD5_CHUNK), total);
  }
  if (total === 0) progress("md5", 0, 0);
  return h.digest();
}

// ---- kinds by magic bytes ----

const VIDEO_ATOMS = ["moov", "mdat", "wide", "free", "skip", "pnot"];
const AUDIO_BRANDS = ["M4A ", "M4B ", "M4P ", "F4A ", "F4B "];

function sniffKind(head) {
  if (imageFormat(head)) return "image";
  const s = latin1(head.subarray(0, 64));
  const box = s.slice(4, 8);
  if (box === "ftyp") return AUDIO_BRANDS.includes(s.slice(8, 12)) ? "file" : "video"; // MP4, MOV, 3GP
  if (VIDEO_ATOMS.includes(box) && head.length >= 8) return "video";                // QuickTime, no ftyp
  if (s.startsWith("\x1a\x45\xdf\xa3")) return "video";                              // WebM / Matroska
  if (s.startsWith("RIFF") && s.slice(8, 12) === "AVI ") return "video";
  if (s.startsWith("FLV\x01")) return "video";
  if (s.startsWith("\0\0\x01\xba") || s.startsWith("\0\0\x01\xb3")) return "video";   // MPEG-PS / MPEG-1
  if (s.startsWith("\x30\x26\xb2\x75\x8e\x66\xcf\x11")) return "video";              // ASF / WMV
  if (s.startsWith(".RMF")) return "video";                                          // RealMedia
  if (s.startsWith("OggS") && s.includes("\x80theora")) return "video";
  for (const o of [0, 4]) {                                                          // MPEG-TS / M2TS
    if (head.length > o + 376 && head[o] === 0x47 && head[o + 188] === 0x47 && head[o + 376] === 0x47) {
      return "video";
    }
  }
  return "file";
}

// ---- decoding ----

// Resolves to {meta, bitmap, source} (whole image decoded once) or {meta, source, width, height} (too big
// to decode whole: decode strip by strip from `source`). Rejects with ImageWarning when the browser
// cannot decode.
async function startDecode(blob, meta, forceStrips = false) {
  const name = FORMAT_NAMES[meta.format] ? `${FORMAT_NAMES[meta.format]} ` : "";
  const w = meta.width, h = meta.height;
  if (w * h > MAX_PIXELS) throw tooLarge(w, h);
  // Chromium applies EXIF orientation even with imageOrientation "none"; hide it so that orientation
  // is applied exactly once, by us, with Pillow's rules. (Also: APNG -> its IDAT image.)
  const source = sourceForDecoder(blob, meta) || blob;
  try {
    if (forceStrips && w) throw new Error("strip decoding requested");
    return { meta, bitmap: await createImageBitmap(source, DECODE), source };
  } catch (err) {
    if (w && h && (w * h > 16e6 || forceStrips)) {
      // Perhaps only too large to hold decoded at once: if a first strip decodes, go strip by strip.
      let strip = null;
      try {
        const tw = Math.min(w, MAX_TILE), rows = Math.max(1, Math.min(h, Math.floor(STRIP_PIXELS / tw)));
        strip = await createImageBitmap(source, 0, 0, tw, rows, DECODE);
      } catch { /* not a size problem */ }
      if (strip) {
        strip.close();
        return { meta, source, width: w, height: h };
      }
    }
    throw new ImageWarning(`This browser could not open this ${name}image (it may be damaged, or in a ` +
      "format this browser does not support), so only the file's exact fingerprint (MD5) was made. " +
      "Opening it in another browser, or saving it as JPEG or PNG, may allow a full set of fingerprints.",
      "cannot_open", { format: FORMAT_NAMES[meta.format] || "" });
  }
}

function tooLarge(w, h) {
  return new ImageWarning(`This image is too large to process here (${w} × ${h} pixels), so only its ` +
    "exact fingerprint (MD5) was made. A smaller copy of the image can be added as well.", "too_large",
    { width: w, height: h });
}

async function hashImage(decoded, progress) {
  const { meta, bitmap, source } = decoded;
  const width = bitmap ? bitmap.width : decoded.width;
  const height = bitmap ? bitmap.height : decoded.height;
  // The browser must hand us the pixels as stored; anything else (a rotation we could not undo, a
  // decoder that shrank the image) would give a wrong hash, so refuse rather than guess.
  if (meta.width && (meta.width !== width || meta.height !== height)) {
    if (bitmap) bitmap.close();
    throw new ImageWarning("This browser changed the image while opening it (for example rotated it), " +
      "so only the file's exact fingerprint (MD5) was made.", "changed");
  }
  if (width * height > MAX_PIXELS) {
    if (bitmap) bitmap.close();
    throw tooLarge(width, height);
  }
  if (meta.unsupported) {
    if (bitmap) bitmap.close();
    throw new ImageWarning("This image is stored in an unusual way that cannot be processed here, so " +
      "only its exact fingerprint (MD5) was made.", "unusual");
  }
  const orientation = meta.orientation;
  const [ow, oh] = orientedSize(width, height, orientation);
  // PDQ's downsampling and pHash's resize both take rows top to bottom as they are decoded, holding
  // only a few rows. When the orientation reorders rows (flips, rotations), whole planes are needed.
  const inOrder = !(orientation >= 3);
  let pdq, resizer, luma, grey;
  try {
    pdq = ow >= 5 && oh >= 5 ? new PdqDownsampler(oh, ow) : null;
    resizer = new GreyResizer(ow, oh);
    if (!inOrder) {
      luma = new Float32Array(ow * oh);
      grey = new Uint8Array(ow * oh);
    }
  } catch {
    if (bitmap) bitmap.close();
    throw new ImageWarning("There was not enough memory to process this image, so only its exact " +
      "fingerprint (MD5) was made.", "memory");
  }
  const addRows = (lumaRows, greyRows, offset, count) => {
    if (pdq) pdq.addRows(lumaRows, offset, count);
    resizer.addRows(greyRows, offset, count);
  };
  await readStrips(bitmap, source, width, height, orientation, progress, meta.gifFill,
    inOrder ? addRows : null, luma, grey);
  if (!inOrder) addRows(luma, grey, 0, oh);
  const hashes = pdq ? pdqFrom64(pdq.finish()) : { pdq: ZERO_HASH, pdqQuality: 0 };
  progress("pdq", 1, 1);
  const phash = phashFrom32(resizer.finish());
  progress("phash", 1, 1);
  return { ...hashes, phash };
}

// PDQ luminance (as pdq.js lumaFromRGBA: float64 sum, one rounding to float32 by the store) and Pillow
// grey (as phash.js greyFromRGBA) of `count` RGBA pixels from px[p], written from index d in steps of
// `step`: one read of the pixels for both.
function lumaAndGrey(px, p, count, luma, grey, d, step) {
  for (let i = 0; i < count; i++, p += 4, d += step) {
    const r = px[p], g = px[p + 1], b = px[p + 2];
    luma[d] = r * 0.299 + g * 0.587 + b * 0.114;
    grey[d] = (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
  }
}

// Decode the image strip by strip (tile by tile when wider than MAX_TILE) onto an opaque white canvas
// (exactly Pillow's alpha_composite onto white: checked for all 65,536 value/alpha pairs), and compute
// each pixel's PDQ luminance and Pillow grey value. With `addRows`, each finished strip of oriented rows
// is handed on at once (orientations that keep rows in order); otherwise every pixel is written to its
// place in the whole oriented planes `luma` and `grey`.
async function readStrips(bitmap, source, width, height, orientation, progress, fill, addRows, luma, grey) {
  const tileW = Math.min(width, MAX_TILE);
  const rows = Math.max(1, Math.min(height, Math.floor(STRIP_PIXELS / tileW)));
  const canvas = new OffscreenCanvas(tileW, rows);
  // willReadFrequently keeps the canvas on the CPU, where blending is exact 8-bit arithmetic.
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.imageSmoothingEnabled = false;
  ctx.fillStyle = "#fff";
  const map = rowMapping(width, height, orientation);
  const total = Math.ceil(height / rows) * Math.ceil(width / tileW);
  if (addRows) { // one strip of full rows (orientations 1 and 2 keep rows as rows, in order)
    luma = new Float32Array(width * rows);
    grey = new Uint8Array(width * rows);
  }
  let n = 0;
  progress("decode", 0, total);
  try {
    for (let y0 = 0; y0 < height; y0 += rows) {
      const h = Math.min(rows, height - y0);
      const shift = addRows ? y0 * width : 0; // strip buffers start at row y0
      for (let x0 = 0; x0 < width; x0 += tileW) {
        const tw = Math.min(tileW, width - x0);
        ctx.fillRect(0, 0, tileW, rows); // opaque: replaces the previous tile
        if (bitmap) {
          ctx.drawImage(bitmap, x0, y0, tw, h, 0, 0, tw, h);
        } else {
          const tile = await createImageBitmap(source, x0, y0, tw, h, DECODE);
          ctx.drawImage(tile, 0, 0);
          tile.close();
        }
        const px = ctx.getImageData(0, 0, tw, h).data;
        if (fill) fillOutside(px, tw, x0, y0, h, fill);
        for (let y = 0; y < h; y++) {
          const { base, step } = map(y0 + y);
          lumaAndGrey(px, y * tw * 4, tw, luma, grey, base + x0 * step - shift, step);
        }
        progress("decode", ++n, total);
      }
      if (addRows) addRows(luma, grey, 0, h);
    }
  } finally {
    if (bitmap) bitmap.close();
  }
}

// Paint what lies outside a GIF's first frame the way Pillow does (see readGif in orientation.js).
function fillOutside(px, width, tx0, y0, rows, { x0, y0: fy0, x1, y1, rgb }) {
  for (let y = 0; y < rows; y++) {
    const inside = y0 + y >= fy0 && y0 + y < y1;
    for (let x = 0; x < width; x++) {
      if (inside && tx0 + x >= x0 && tx0 + x < x1) continue;
      const p = (y * width + x) * 4;
      px[p] = rgb[0]; px[p + 1] = rgb[1]; px[p + 2] = rgb[2];
    }
  }
}
