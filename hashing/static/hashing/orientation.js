// Image metadata needed to decode the way the Python reference does: the orientation Pillow's
// ImageOps.exif_transpose would apply (Pillow 13 rules, below), the stored pixel size, and where the
// EXIF orientation entries sit so the worker can hide them from the browser's decoder.
//
// Pillow's rules, as read from its source:
// - info["exif"] comes from JPEG APP1 "Exif\0\0" (the first one; later ones are appended without their
//   header), PNG eXIf (or a tEXt chunk keyed "exif"), WebP EXIF (first chunk). Only when there is no
//   info["exif"] does a PNG text chunk "Raw profile type exif" (hex) count. "Raw profile type APP1" is
//   not read at all.
// - Orientation is tag 0x0112 of IFD0; the first entry wins; a count > 1 uses the first value.
// - Only when the EXIF has no orientation, the first `tiff:Orientation="N"` / `tiff:Orientation>N` in
//   XMP counts: PNG text "XML:com.adobe.xmp" first, else JPEG APP1 XMP (the last one) / WebP "XMP ".
// - Values other than 2..8 mean "leave as is".

// Bytes to a string one char per byte (TextDecoder("latin1") is really windows-1252).
export function latin1(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(bytes.length, i + 8192)));
  }
  return s;
}
const td = { decode: latin1 };

// Reads a Blob in cached windows so walking chunk headers costs few slice() calls. Windows grow
// (64 KB up to 8 MB) because walking a PNG touches the whole file while a JPEG's headers are at its start.
class Reader {
  constructor(blob) {
    this.blob = blob; this.size = blob.size; this.start = 0; this.buf = new Uint8Array(0);
    this.window = 65536;
  }
  async bytes(offset, length) {
    const end = Math.min(this.size, offset + length);
    if (offset >= this.start && end <= this.start + this.buf.length) {
      return this.buf.subarray(offset - this.start, end - this.start);
    }
    if (this.buf.length) this.window = Math.min(this.window * 2, 8 << 20);
    const windowEnd = Math.min(this.size, Math.max(end, offset + this.window));
    this.buf = new Uint8Array(await this.blob.slice(offset, windowEnd).arrayBuffer());
    this.start = offset;
    return this.buf.subarray(0, end - offset);
  }
}

const u16be = (b, o) => (b[o] << 8) | b[o + 1];
const u32be = (b, o) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const u32le = (b, o) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
const startsWith = (b, s) => b.length >= s.length && td.decode(b.subarray(0, s.length)) === s;

// ---- TIFF/EXIF: orientation as Pillow reads it, plus every orientation entry (for patching) ----
const TYPE_SIZE = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8 };

// `data` is EXIF (with or without "Exif\0\0"). Returns {orientation, present, entries}:
// - orientation/present follow Pillow's ImageFileDirectory_v2.load on IFD0: entries are read in
//   order; a tag already seen is skipped; unknown types and empty values are skipped; an out-of-line
//   value is skipped when the running total of out-of-line sizes exceeds the data length, and reading
//   stops altogether at one that lies past the end. `present` (tag stored, whatever its type) is what
//   stops Pillow from looking at XMP.
// - entries: every SHORT/LONG orientation value in IFD0 and IFD1 (offsets within `data`), for patching.
export function parseExifOrientation(data) {
  let tiff = data;
  for (let i = 0; i < 2 && startsWith(tiff, "Exif\0\0"); i++) tiff = tiff.subarray(6);
  const skip = data.length - tiff.length;
  const out = { orientation: null, present: false, entries: [], valid: false };
  if (tiff.length < 8) return out;
  const sig = td.decode(tiff.subarray(0, 4));
  let little;
  if (sig === "II*\0" || sig === "II\0*") little = true;
  else if (sig === "MM\0*" || sig === "MM*\0") little = false;
  else return out; // Pillow raises on this header (BigTIFF EXIF is not handled either)
  out.valid = true;
  const len = tiff.length;
  const view = new DataView(tiff.buffer, tiff.byteOffset, len);
  const r16 = (o) => view.getUint16(o, little);
  const r32 = (o) => view.getUint32(o, little);
  const ifd0 = r32(4);
  // Pillow's reading of IFD0.
  if (ifd0 + 2 <= len) {
    const count = r16(ifd0), seen = new Set();
    let total = 0;
    for (let i = 0; i < count; i++) {
      const e = ifd0 + 2 + i * 12;
      if (e + 12 > len) break;
      const tag = r16(e), type = r16(e + 2), num = r32(e + 4), unit = TYPE_SIZE[type];
      if (seen.has(tag) || !unit) continue;
      const size = num * unit;
      let vpos = e + 8;
      if (size > 4) {
        vpos = r32(e + 8);
        total += size;
        if (total > len) continue;
        if (vpos + size > len) break; // Pillow: "Truncated File Read" ends the IFD
      }
      if (size === 0) continue;
      seen.add(tag);
      if (tag === 0x0112) {
        out.present = true;
        out.orientation = exifValue(view, vpos, type, little);
      }
    }
  }
  // Every SHORT/LONG orientation value a decoder might use.
  let ifd = ifd0;
  for (let n = 0; n < 2 && ifd > 0 && ifd + 2 <= len; n++) {
    const count = r16(ifd);
    for (let i = 0; i < count && ifd + 14 + i * 12 <= len; i++) {
      const e = ifd + 2 + i * 12, type = r16(e + 2);
      if (r16(e) === 0x0112 && (type === 3 || type === 4) && r32(e + 4) === 1) {
        out.entries.push({ pos: skip + e + 8, type, little });
      }
    }
    const next = ifd + 2 + count * 12;
    if (next + 4 > len) break;
    ifd = r32(next);
  }
  return out;
}

// First value of an entry, as the Python object Pillow would compare against 2..8 (bytes and text
// never match; rationals and floats compare by value).
function exifValue(view, pos, type, little) {
  switch (type) {
    case 3: return view.getUint16(pos, little);
    case 4: case 13: return view.getUint32(pos, little);
    case 6: return view.getInt8(pos);
    case 8: return view.getInt16(pos, little);
    case 9: return view.getInt32(pos, little);
    case 5: { const d = view.getUint32(pos + 4, little); return d ? view.getUint32(pos, little) / d : null; }
    case 10: { const d = view.getInt32(pos + 4, little); return d ? view.getInt32(pos, little) / d : null; }
    case 11: return view.getFloat32(pos, little);
    case 12: return view.getFloat64(pos, little);
    case 16: return Number(view.getBigUint64(pos, little));
    default: return null; // BYTE, ASCII, UNDEFINED: Pillow yields bytes/str
  }
}

function xmpOrientation(text) {
  const m = /tiff:Orientation(="|>)([0-9])/.exec(text);
  return m ? Number(m[2]) : null;
}

// Pillow: bytes.fromhex("".join(value.split("\n")[3:])); anything unparsable makes Pillow fail.
function rawProfileBytes(text) {
  const hex = text.split("\n").slice(3).join("").replace(/[\s]/g, "");
  if (hex.length % 2 || /[^0-9a-fA-F]/.test(hex)) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// ---- container walkers ----

async function readJpeg(r) {
  const meta = { format: "jpeg", width: 0, height: 0, exif: null, patchParts: [], xmp: null };
  let pos = 2;
  while (pos + 4 <= r.size) {
    const b = await r.bytes(pos, 4);
    if (b[0] !== 0xff) { pos++; continue; }           // junk between segments
    const m = b[1];
    if (m === 0xff) { pos++; continue; }               // fill byte
    if (m === 0x00 || (m >= 0xd0 && m <= 0xd8) || m === 0x01) { pos += 2; continue; } // no length
    if (m === 0xd9 || m === 0xda) break;               // EOI / start of scan: headers are over
    const len = u16be(b, 2);
    if (len < 2) break;
    const dataPos = pos + 4, dataLen = len - 2;
    if ((m >= 0xc0 && m <= 0xcf) && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      const s = await r.bytes(dataPos, 5);
      if (s.length === 5) { meta.height = u16be(s, 1); meta.width = u16be(s, 3); }
    } else if (m === 0xe1) {
      const s = (await r.bytes(dataPos, dataLen)).slice();
      if (startsWith(s, "Exif\0\0")) {
        meta.patchParts.push({ pos: dataPos, bytes: s });
        meta.exif = meta.exif ? concat(meta.exif, s.subarray(6)) : s;
      } else if (startsWith(s, "http://ns.adobe.com/xap/1.0/\0")) {
        meta.xmp = td.decode(s.subarray(s.indexOf(0) + 1));
      }
    }
    pos = dataPos + dataLen;
  }
  return meta;
}

function concat(a, b) {
  const o = new Uint8Array(a.length + b.length);
  o.set(a); o.set(b, a.length);
  return o;
}

const PNG_IEND = new Uint8Array([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]);

async function readPng(r) {
  const meta = { format: "png", width: 0, height: 0, exif: null, patchParts: [], xmp: null,
                 xmpText: null, rawExif: null };
  let pos = 8, animated = false, seenIdat = false;
  const animChunks = [];
  while (pos + 12 <= r.size) {
    const h = await r.bytes(pos, 8);
    const len = u32be(h, 0), type = td.decode(h.subarray(4, 8));
    const dataPos = pos + 8;
    if (type === "IEND") break;
    if (type === "fcTL" && animated && seenIdat) break; // Pillow stops reading at the next frame
    if (type === "IDAT") {
      seenIdat = true;
      meta.idatEnd = dataPos + len + 4;
    } else if ((type === "acTL" || type === "fcTL") && !seenIdat) {
      if (type === "acTL") animated = true;
      animChunks.push({ pos, length: len + 12 });
    } else if (type === "IHDR") {
      const d = await r.bytes(dataPos, 13);
      meta.width = u32be(d, 0); meta.height = u32be(d, 4);
    } else if (type === "eXIf") {
      const d = (await r.bytes(dataPos, len)).slice();
      meta.exif = concat(new TextEncoder().encode("Exif\0\0"), d);
      // positions relative to a virtual "Exif\0\0" prefix, so entry offsets map back to the file
      meta.patchParts.push({ pos: dataPos - 6, bytes: meta.exif, pngCrc: dataPos + len });
    } else if (type === "tEXt" || type === "zTXt" || type === "iTXt") {
      await pngText(meta, type, (await r.bytes(dataPos, len)).slice());
    }
    pos = dataPos + len + 4;
  }
  // Pillow's first frame of an APNG is always the IDAT image, even when that "default image" is not
  // part of the animation; browsers show the first animation frame. Decoding a copy without the
  // animation chunks, cut after the IDATs, gives the browser the same image.
  if (animated && meta.idatEnd) meta.cut = { remove: animChunks, end: meta.idatEnd, tail: PNG_IEND };
  if (!meta.exif && meta.rawExif) meta.exif = meta.rawExif;
  if (meta.xmpText) meta.xmp = meta.xmpText; // "XML:com.adobe.xmp" text wins over other XMP
  return meta;
}

async function pngText(meta, type, d) {
  const z = d.indexOf(0);
  if (z <= 0) return;
  const key = td.decode(d.subarray(0, z));
  let value = d.subarray(z + 1), text;
  if (type === "tEXt") {
    if (key === "exif") { meta.exif = value; return; } // Pillow keeps this one as bytes
    text = td.decode(value);
  } else if (type === "zTXt") {
    if (!value.length || value[0] !== 0) return;
    try { text = td.decode(await inflate(value.subarray(1))); } catch { text = ""; }
  } else {
    if (value.length < 2) return;
    const compressed = value[0], method = value[1];
    let rest = value.subarray(2);
    for (let i = 0; i < 2; i++) { const k = rest.indexOf(0); if (k < 0) return; rest = rest.subarray(k + 1); }
    if (compressed) {
      if (method !== 0) return;
      try { rest = await inflate(rest); } catch { return; }
    }
    if (key === "XML:com.adobe.xmp") meta.xmp = td.decode(rest);
    try { text = new TextDecoder("utf-8", { fatal: true }).decode(rest); } catch { return; }
  }
  if (key === "Raw profile type exif") meta.rawExif = rawProfileBytes(text);
  else if (key === "XML:com.adobe.xmp") meta.xmpText = text;
}

async function readWebp(r) {
  const meta = { format: "webp", width: 0, height: 0, exif: null, patchParts: [], xmp: null };
  let pos = 12, extended = false;
  const end = Math.min(r.size, 8 + u32le(await r.bytes(4, 4), 0));
  while (pos + 8 <= end) {
    const h = await r.bytes(pos, 8);
    const type = td.decode(h.subarray(0, 4)), len = u32le(h, 4), dataPos = pos + 8;
    if (type === "VP8X") {
      extended = true;
      const d = await r.bytes(dataPos, 10);
      meta.width = 1 + (d[4] | (d[5] << 8) | (d[6] << 16));
      meta.height = 1 + (d[7] | (d[8] << 8) | (d[9] << 16));
    } else if (type === "VP8 " && !meta.width) {
      const d = await r.bytes(dataPos, 10);
      meta.width = (d[6] | (d[7] << 8)) & 0x3fff; meta.height = (d[8] | (d[9] << 8)) & 0x3fff;
    } else if (type === "VP8L" && !meta.width) {
      const d = await r.bytes(dataPos, 5);
      const bits = u32le(d, 1);
      meta.width = (bits & 0x3fff) + 1; meta.height = ((bits >>> 14) & 0x3fff) + 1;
    } else if (extended && type === "EXIF" && !meta.exif) {
      meta.exif = (await r.bytes(dataPos, len)).slice();
      meta.patchParts.push({ pos: dataPos, bytes: meta.exif });
    } else if (extended && type === "XMP " && meta.xmp === null) {
      meta.xmp = td.decode(await r.bytes(dataPos, len));
    }
    pos = dataPos + len + (len & 1);
  }
  return meta;
}

// GIF: Pillow starts frame 0 from a canvas of palette index 0 unless that frame has a transparent
// index, so a first frame smaller than the canvas is surrounded by palette colour 0 (browsers leave it
// transparent). A first frame larger than the canvas makes Pillow grow the canvas: not reproduced.
async function readGif(r) {
  const meta = { format: "gif", width: 0, height: 0, exif: null, patchParts: [], xmp: null };
  const h = await r.bytes(0, 13);
  meta.width = h[6] | (h[7] << 8); meta.height = h[8] | (h[9] << 8);
  let pos = 13, palette = null, transparent = false;
  if (h[10] & 0x80) {
    const n = 3 << ((h[10] & 7) + 1);
    palette = (await r.bytes(pos, 3)).slice();
    pos += n;
  }
  while (pos < r.size) {
    const b = await r.bytes(pos, 10);
    if (b[0] === 0x21) {
      if (b[1] === 0xf9 && b[2] >= 4) transparent = (b[3] & 1) === 1;
      pos += 2;
      for (;;) { const n = (await r.bytes(pos, 1))[0]; pos += 1 + n; if (!n || pos >= r.size) break; }
    } else if (b[0] === 0x2c && b.length >= 10) {
      const x0 = b[1] | (b[2] << 8), y0 = b[3] | (b[4] << 8);
      const x1 = x0 + (b[5] | (b[6] << 8)), y1 = y0 + (b[7] | (b[8] << 8));
      if (b[9] & 0x80) palette = (await r.bytes(pos + 10, 3)).slice();
      if (x1 > meta.width || y1 > meta.height) meta.unsupported = "frame larger than canvas";
      else if (!transparent && (x0 > 0 || y0 > 0 || x1 < meta.width || y1 < meta.height)) {
        meta.gifFill = { x0, y0, x1, y1, rgb: palette ? Array.from(palette) : [0, 0, 0] };
      }
      break;
    } else {
      break;
    }
  }
  return meta;
}

// Magic-byte sniffing of still-image formats (what a browser might decode).
export function imageFormat(head) {
  const s = td.decode(head.subarray(0, 16));
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "jpeg";
  if (s.startsWith("\x89PNG\r\n\x1a\n")) return "png";
  if (s.startsWith("RIFF") && s.slice(8, 12) === "WEBP") return "webp";
  if (s.startsWith("GIF87a") || s.startsWith("GIF89a")) return "gif";
  if (s.startsWith("BM")) return "bmp";
  if (s.startsWith("\0\0\x01\0") || s.startsWith("\0\0\x02\0")) return "ico";
  if (s.startsWith("II*\0") || s.startsWith("MM\0*")) return "tiff";
  if (s.startsWith("\xff\x0a") || s.startsWith("\0\0\0\x0cJXL \r\n\x87\n")) return "jxl";
  if (s.slice(4, 8) === "ftyp") {
    const brand = s.slice(8, 12);
    if (["avif", "avis"].includes(brand)) return "avif";
    if (["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "msf1"].includes(brand)) return "heif";
  }
  return null;
}

// Everything the worker needs: {format, width, height, orientation (1..8), patchParts}. patchParts are
// all EXIF blocks a browser decoder may read orientation from (whichever one Pillow uses).
export async function readImageMeta(blob) {
  const r = new Reader(blob);
  const format = imageFormat(await r.bytes(0, 32));
  let meta = { format, width: 0, height: 0, exif: null, patchParts: [], xmp: null };
  if (format === "jpeg") meta = await readJpeg(r);
  else if (format === "png") meta = await readPng(r);
  else if (format === "webp") meta = await readWebp(r);
  else if (format === "gif") meta = await readGif(r);
  let orientation = null, present = false;
  if (meta.exif && meta.exif.length) {
    const exif = parseExifOrientation(meta.exif);
    ({ orientation, present } = exif);
    // Non-empty EXIF that is not TIFF makes Pillow's getexif raise; we treat it as "no rotation"
    // (and do not fall back to XMP), a rule the Python reference can state simply.
    if (!exif.valid && meta.exif.length > (startsWith(meta.exif, "Exif\0\0") ? 6 : 0)) present = true;
  }
  if (!present && meta.xmp) orientation = xmpOrientation(meta.xmp);
  meta.orientation = Number.isInteger(orientation) && orientation >= 2 && orientation <= 8 ? orientation : 1;
  return meta;
}

// What to hand the browser's decoder: a copy of the file (a Blob made of slices, never a full copy in
// memory) in which every SHORT/LONG EXIF orientation value is 1, so a browser that honours EXIF
// orientation leaves the pixels as stored (PNG chunk CRCs recomputed), and an APNG reduced to its
// IDAT image. Returns null when the file can be decoded as it is.
export function sourceForDecoder(blob, meta) {
  const edits = []; // {pos, bytes, skip}: replace `skip` bytes at pos (default bytes.length)
  for (const part of meta.patchParts) {
    const bytes = part.bytes.slice();
    const { entries } = parseExifOrientation(bytes);
    let changed = false;
    for (const e of entries) {
      const v = new DataView(bytes.buffer, bytes.byteOffset + e.pos, e.type === 3 ? 2 : 4);
      const cur = e.type === 3 ? v.getUint16(0, e.little) : v.getUint32(0, e.little);
      if (cur === 1) continue;
      if (e.type === 3) v.setUint16(0, 1, e.little); else v.setUint32(0, 1, e.little);
      changed = true;
    }
    if (!changed) continue;
    if (part.pngCrc !== undefined) {
      const body = bytes.subarray(6); // eXIf data without the "Exif\0\0" Pillow-style prefix
      edits.push({ pos: part.pos + 6, bytes: body });
      const crc = new Uint8Array(4);
      new DataView(crc.buffer).setUint32(0, crc32(concat(new TextEncoder().encode("eXIf"), body)));
      edits.push({ pos: part.pngCrc, bytes: crc });
    } else {
      edits.push({ pos: part.pos, bytes });
    }
  }
  let end = blob.size, tail = null;
  if (meta.cut) {
    for (const c of meta.cut.remove) edits.push({ pos: c.pos, bytes: new Uint8Array(0), skip: c.length });
    end = meta.cut.end;
    tail = meta.cut.tail;
  }
  if (!edits.length && !tail) return null;
  edits.sort((a, b) => a.pos - b.pos);
  const parts = [];
  let at = 0;
  for (const e of edits) {
    if (e.pos >= end) continue;
    parts.push(blob.slice(at, e.pos), e.bytes);
    at = e.pos + (e.skip === undefined ? e.bytes.length : e.skip);
  }
  parts.push(blob.slice(at, end));
  if (tail) parts.push(tail);
  return new Blob(parts, { type: blob.type });
}

let crcTable = null;
function crc32(bytes) {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let c = -1;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

// ---- applying an orientation (Pillow's transpose for EXIF values 2..8) ----

export function orientedSize(width, height, orientation) {
  return orientation >= 5 ? [height, width] : [width, height];
}

// For source row sy, the destination index of source pixel sx is base + sx * step (row-major output).
export function rowMapping(width, height, orientation) {
  const w = width, h = height;
  switch (orientation) {
    case 2: return (sy) => ({ base: sy * w + w - 1, step: -1 });                 // FLIP_LEFT_RIGHT
    case 3: return (sy) => ({ base: (h - 1 - sy) * w + w - 1, step: -1 });       // ROTATE_180
    case 4: return (sy) => ({ base: (h - 1 - sy) * w, step: 1 });                // FLIP_TOP_BOTTOM
    case 5: return (sy) => ({ base: sy, step: h });                              // TRANSPOSE
    case 6: return (sy) => ({ base: h - 1 - sy, step: h });                      // ROTATE_270
    case 7: return (sy) => ({ base: (w - 1) * h + h - 1 - sy, step: -h });       // TRANSVERSE
    case 8: return (sy) => ({ base: (w - 1) * h + sy, step: -h });               // ROTATE_90
    default: return (sy) => ({ base: sy * w, step: 1 });
  }
}

// Orient a whole pixel buffer (`channels` values per pixel); returns [pixels, width, height].
export function orientPixels(pixels, width, height, orientation, channels = 4) {
  const [ow, oh] = orientedSize(width, height, orientation);
  const out = new pixels.constructor(pixels.length);
  const map = rowMapping(width, height, orientation);
  for (let sy = 0; sy < height; sy++) {
    const { base, step } = map(sy);
    for (let sx = 0; sx < width; sx++) {
      const s = (sy * width + sx) * channels, d = (base + sx * step) * channels;
      for (let c = 0; c < channels; c++) out[d + c] = pixels[s + c];
    }
  }
  return [out, ow, oh];
}
