// PDQ perceptual hash (Meta ThreatExchange), written from the published algorithm.
//
// Bit-exact with PyPI `pdqhash` on the same RGB pixels. That binding computes luminance in float64 and
// rounds once to float32; from there the C++ works in float32. JavaScript numbers are float64, so every
// intermediate is rounded back to float32 (Math.fround or a Float32Array store) in the C++'s order of
// operations. Double rounding through float64 is harmless for a single +, -, * or / of two float32
// values (53 >= 2*24 + 2), which is why fround(a op b) equals the C++ float result.

const MIN_DIM = 5;
const OUT = 64;

// D[i][j] = sqrt(2/64) * cos(pi/128 * (i+1) * (2j+1)), the C++ computes the scale in float and the
// product in double, then stores float.
const DCT = (() => {
  const m = new Float32Array(16 * 64);
  const scale = Math.fround(Math.sqrt(2.0 / 64));
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      m[i * 64 + j] = scale * Math.cos((Math.PI / 2.0 / 64) * (i + 1) * (2 * j + 1));
    }
  }
  return m;
})();

// Luminance as pdqhash's binding computes it: float64 R*0.299 + G*0.587 + B*0.114, then one rounding
// to float32 (the Float32Array store). `rgba` is 4 bytes per pixel; alpha is ignored.
export function lumaFromRGBA(rgba, count, out, outOffset = 0) {
  for (let i = 0, p = 0; i < count; i++, p += 4) {
    out[outOffset + i] = rgba[p] * 0.299 + rgba[p + 1] * 0.587 + rgba[p + 2] * 0.114;
  }
  return out;
}

// Jarosz window per axis: ceil(old / 128) in integer arithmetic.
function windowSize(oldDim) {
  return Math.floor((oldDim + 2 * OUT - 1) / (2 * OUT));
}

// inv[n] = 1/n. For a float32 sum s, fround(s * (1/n)) equals fround(s / n) unless the quotient is
// subnormal: the double product is within 2^-52 (relative) of s/n, while s/n can never lie on a float32
// rounding boundary (an odd 25-bit significand times n does not fit in s's 24 bits) and otherwise is at
// least about 2^-25/n away from one (also checked on 6e7 random pairs). The first two box passes
// multiply, since a divide costs several times more: their nonzero sums are at least 2^-69 (multiples
// of the smallest input's ulp; luminance is 0 or >= 0.114) and n < 2^19, so their quotients stay far
// above 2^-126. The later passes divide.
function inverses(n) {
  const inv = new Float64Array(n + 1);
  for (let i = 1; i <= n; i++) inv[i] = 1 / i;
  return inv;
}

// The C++ box1DFloat along a row: the window grows from the leading edge, slides, then shrinks at the
// trailing edge, and each output is (running float32 sum) / (samples currently in the window), here
// sum * inv[count] (see inverses; an all-ones `inv` gives the running sums themselves).
function boxRow(src, s0, dst, d0, len, full, inv) {
  const f = Math.fround;
  const half = (full + 2) >> 1;
  let ri = s0, li = s0, oi = d0, cnt = 0, sum = 0;
  for (let i = 0; i < half - 1; i++) { sum = f(sum + src[ri++]); cnt++; }
  for (let i = 0; i < full - half + 1; i++) { sum = f(sum + src[ri++]); dst[oi++] = sum * inv[++cnt]; }
  const q = inv[cnt];
  for (let i = 0; i < len - full; i++) { sum = f(f(sum + src[ri++]) - src[li++]); dst[oi++] = sum * q; }
  for (let i = 0; i < half - 1; i++) { sum = f(sum - src[li++]); dst[oi++] = sum * inv[--cnt]; }
}

// boxRow on four rows at once. A row's running sum is one chain of dependent float operations, so a
// single row runs at that chain's latency; four independent chains overlap. Same arithmetic per row.
function boxRow4(src, s0, s1, s2, s3, dst, d0, d1, d2, d3, len, full, inv) {
  const f = Math.fround;
  const half = (full + 2) >> 1;
  let a = 0, b = 0, c = 0, d = 0, cnt = 0, ri = 0, li = 0, oi = 0;
  for (let i = 0; i < half - 1; i++, ri++) {
    a = f(a + src[s0 + ri]); b = f(b + src[s1 + ri]); c = f(c + src[s2 + ri]); d = f(d + src[s3 + ri]);
    cnt++;
  }
  for (let i = 0; i < full - half + 1; i++, ri++, oi++) {
    a = f(a + src[s0 + ri]); b = f(b + src[s1 + ri]); c = f(c + src[s2 + ri]); d = f(d + src[s3 + ri]);
    const q = inv[++cnt];
    dst[d0 + oi] = a * q; dst[d1 + oi] = b * q; dst[d2 + oi] = c * q; dst[d3 + oi] = d * q;
  }
  const q = inv[cnt];
  for (let i = 0; i < len - full; i++, ri++, li++, oi++) {
    a = f(f(a + src[s0 + ri]) - src[s0 + li]);
    b = f(f(b + src[s1 + ri]) - src[s1 + li]);
    c = f(f(c + src[s2 + ri]) - src[s2 + li]);
    d = f(f(d + src[s3 + ri]) - src[s3 + li]);
    dst[d0 + oi] = a * q; dst[d1 + oi] = b * q; dst[d2 + oi] = c * q; dst[d3 + oi] = d * q;
  }
  for (let i = 0; i < half - 1; i++, li++, oi++) {
    a = f(a - src[s0 + li]); b = f(b - src[s1 + li]); c = f(c - src[s2 + li]); d = f(d - src[s3 + li]);
    const q = inv[--cnt];
    dst[d0 + oi] = a * q; dst[d1 + oi] = b * q; dst[d2 + oi] = c * q; dst[d3 + oi] = d * q;
  }
}

// Samples in the window at each output position of a box pass over `len` values.
function windowCounts(len, full) {
  const half = (full + 2) >> 1;
  const counts = new Int32Array(len);
  let cnt = half - 1, oi = 0;
  for (let i = 0; i < full - half + 1; i++) counts[oi++] = ++cnt;
  for (let i = 0; i < len - full; i++) counts[oi++] = cnt;
  for (let i = 0; i < half - 1; i++) counts[oi++] = --cnt;
  return counts;
}

const GROUP = 4; // rows filtered together by boxRow4

// The C++ box1DFloat down every column at once, fed one row at a time, top to bottom: each column
// keeps its own float32 running sum, exactly as the C++ walks that column. The caller writes input row
// k into `ring` at slot(k) and then calls step(); rows are subtracted again `full` rows later, so the
// ring keeps full + GROUP rows (a caller may write GROUP rows before stepping through them).
class ColumnBox {
  constructor(cols, full, divide) {
    this.cols = cols;
    this.full = full;
    this.half = (full + 2) >> 1;
    this.divide = divide;              // true: exact division; false: multiply by 1/n (see inverses)
    this.slots = full + GROUP;
    this.ring = new Float32Array(this.slots * cols);
    this.sums = new Float64Array(cols); // holds float32 values: every sum goes through fround
    this.inv = inverses(full);
    this.k = 0;    // rows consumed
    this.li = 0;   // next row to subtract
    this.cnt = 0;  // rows in the window
  }
  slot(k) {
    return (k % this.slots) * this.cols;
  }
  // Consume row k. Returns true when it completed an output row, written to out[o ...].
  step(out, o) {
    const f = Math.fround, cols = this.cols, ring = this.ring, sums = this.sums;
    const a = this.slot(this.k++);
    if (this.k < this.half) {                                  // growing, no output yet
      for (let c = 0; c < cols; c++) sums[c] = f(sums[c] + ring[a + c]);
      this.cnt++;
      return false;
    }
    if (this.k <= this.full) {                                 // growing, with output
      const n = ++this.cnt, q = this.inv[n];
      for (let c = 0; c < cols; c++) {
        const s = f(sums[c] + ring[a + c]);
        sums[c] = s;
        out[o + c] = this.divide ? s / n : s * q;
      }
      return true;
    }
    const b = this.slot(this.li++), n = this.cnt, q = this.inv[n]; // sliding
    if (this.divide) {
      for (let c = 0; c < cols; c++) {
        const s = f(f(sums[c] + ring[a + c]) - ring[b + c]);
        sums[c] = s;
        out[o + c] = s / n;
      }
    } else {
      for (let c = 0; c < cols; c++) {
        const s = f(f(sums[c] + ring[a + c]) - ring[b + c]);
        sums[c] = s;
        out[o + c] = s * q;
      }
    }
    return true;
  }
  // After the last row: one output row of the shrinking phase (there are half - 1 of them).
  drain(out, o) {
    const f = Math.fround, cols = this.cols, ring = this.ring, sums = this.sums;
    const b = this.slot(this.li++), n = --this.cnt, q = this.inv[n];
    for (let c = 0; c < cols; c++) {
      const s = f(sums[c] - ring[b + c]);
      sums[c] = s;
      out[o + c] = this.divide ? s / n : s * q;
    }
  }
}

// PDQ's 64x64 downsampling, fed luminance rows top to bottom (any number at a time) so that it can run
// while an image is still being decoded, and holding only a few dozen rows. The same arithmetic as the
// C++ (two passes of a box filter along rows, then along columns — the Jarosz tent — then sampling the
// centres of 64x64 cells), reorganised: pass 1 (rows) feeds pass 2 (columns) row by row; pass 3 (rows)
// still runs the whole running sum along each row but only the 64 sampled columns are divided out and
// kept; pass 4 (columns) then only needs those 64 columns, and only 64 of its rows are kept.
export class PdqDownsampler {
  constructor(rows, cols) {
    this.rows = rows;
    this.cols = cols;
    this.wRow = windowSize(cols);  // window along each row
    this.invRow = inverses(this.wRow);
    this.pass2 = new ColumnBox(cols, windowSize(rows), false);
    this.pass3Rows = new Float32Array(GROUP * cols); // pass-2 output waiting for pass 3
    this.pending = 0;
    this.pass3Sums = new Float32Array(GROUP * cols);
    this.ones = new Float64Array(this.wRow + 1).fill(1);
    this.counts = windowCounts(cols, this.wRow);
    this.sampleCols = Int32Array.from({ length: OUT }, (_, j) => Math.floor(((j + 0.5) * cols) / OUT));
    this.sampleRows = Int32Array.from({ length: OUT }, (_, i) => Math.floor(((i + 0.5) * rows) / OUT));
    this.pass4 = new ColumnBox(OUT, windowSize(rows), true);
    this.pass4Row = new Float32Array(OUT);
    this.outRow = 0;                                  // pass-4 output rows so far
    this.out = new Float32Array(OUT * OUT);
  }
  addRows(luma, offset, count) {
    const cols = this.cols, p2 = this.pass2, ring = p2.ring;
    let r = 0, s = offset;
    for (; r + GROUP <= count; r += GROUP, s += GROUP * cols) {
      const k = p2.k;
      boxRow4(luma, s, s + cols, s + 2 * cols, s + 3 * cols,
        ring, p2.slot(k), p2.slot(k + 1), p2.slot(k + 2), p2.slot(k + 3), cols, this.wRow, this.invRow);
      for (let g = 0; g < GROUP; g++) this.columnStep(false);
    }
    for (; r < count; r++, s += cols) {
      boxRow(luma, s, ring, p2.slot(p2.k), cols, this.wRow, this.invRow);
      this.columnStep(false);
    }
  }
  // Pass 2 on the next row; its output rows go to pass 3 in groups.
  columnStep(draining) {
    const o = this.pending * this.cols;
    if (draining) this.pass2.drain(this.pass3Rows, o);
    else if (!this.pass2.step(this.pass3Rows, o)) return;
    if (++this.pending === GROUP) this.rowPass3();
  }
  rowPass3() {
    const cols = this.cols, n = this.pending, src = this.pass3Rows, sums = this.pass3Sums;
    if (n === GROUP) {
      boxRow4(src, 0, cols, 2 * cols, 3 * cols, sums, 0, cols, 2 * cols, 3 * cols, cols, this.wRow, this.ones);
    } else {
      for (let g = 0; g < n; g++) boxRow(src, g * cols, sums, g * cols, cols, this.wRow, this.ones);
    }
    const p4 = this.pass4, sc = this.sampleCols, counts = this.counts;
    for (let g = 0; g < n; g++) {
      const a = p4.slot(p4.k), base = g * cols;
      for (let j = 0; j < OUT; j++) p4.ring[a + j] = sums[base + sc[j]] / counts[sc[j]];
      if (p4.step(this.pass4Row, 0)) this.keepRow();
    }
    this.pending = 0;
  }
  keepRow() {
    for (let i = 0; i < OUT; i++) {
      if (this.sampleRows[i] === this.outRow) this.out.set(this.pass4Row, i * OUT);
    }
    this.outRow++;
  }
  // After all rows: returns the 64x64 float32 buffer.
  finish() {
    for (let i = 0; i < this.pass2.half - 1; i++) this.columnStep(true);
    if (this.pending) this.rowPass3();
    for (let i = 0; i < this.pass4.half - 1; i++) {
      this.pass4.drain(this.pass4Row, 0);
      this.keepRow();
    }
    return this.out;
  }
}

// The 64x64 downsampling of a whole float32 luminance buffer (rows x cols, row-major).
export function downsample64(luma, rows, cols) {
  const d = new PdqDownsampler(rows, cols);
  d.addRows(luma, 0, rows);
  return d.finish();
}

// Sum of quantised gradients over the 64x64 buffer, /90, capped at 100 (C++ int/float semantics).
export function quality64(a) {
  const f = Math.fround;
  let sum = 0;
  for (let i = 0; i < 63; i++) {
    for (let j = 0; j < 64; j++) {
      const d = Math.trunc(f(f(f(a[i * 64 + j] - a[(i + 1) * 64 + j]) * 100) / 255));
      sum += Math.abs(d);
    }
  }
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 63; j++) {
      const d = Math.trunc(f(f(f(a[i * 64 + j] - a[i * 64 + j + 1]) * 100) / 255));
      sum += Math.abs(d);
    }
  }
  return Math.min(Math.floor(sum / 90), 100);
}

// B = D A D^T restricted to 16x16, float32 accumulation in the C++ order (k ascending).
export function dct64To16(a) {
  const f = Math.fround;
  const t = new Float32Array(16 * 64);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 64; j++) {
      let s = 0;
      for (let k = 0; k < 64; k++) s = f(s + f(DCT[i * 64 + k] * a[k * 64 + j]));
      t[i * 64 + j] = s;
    }
  }
  const b = new Float32Array(256);
  for (let i = 0; i < 16; i++) {
    for (let j = 0; j < 16; j++) {
      let s = 0;
      for (let k = 0; k < 64; k++) s = f(s + f(t[i * 64 + k] * DCT[j * 64 + k]));
      b[i * 16 + j] = s;
    }
  }
  return b;
}

// Bit k = i*16+j set when coef > median, where the median is the 128th smallest value (what Torben's
// method returns for 256 values). Hex: 16-bit words printed from word 15 down to word 0.
export function bitsToHex(coefs) {
  const sorted = Float32Array.from(coefs).sort();
  const median = sorted[127];
  const words = new Uint16Array(16);
  for (let k = 0; k < 256; k++) {
    if (coefs[k] > median) words[k >> 4] |= 1 << (k & 15);
  }
  let hex = "";
  for (let w = 15; w >= 0; w--) hex += words[w].toString(16).padStart(4, "0");
  return hex;
}

export const ZERO_HASH = "0".repeat(64);

// PDQ from the 64x64 downsampled buffer (PdqDownsampler.finish()).
export function pdqFrom64(a) {
  const pdqQuality = quality64(a);
  return { pdq: bitsToHex(dct64To16(a)), pdqQuality };
}

// PDQ from a float32 luminance buffer (rows x cols, row-major).
export function pdqFromLuma(luma, rows, cols) {
  if (rows < MIN_DIM || cols < MIN_DIM) return { pdq: ZERO_HASH, pdqQuality: 0 };
  return pdqFrom64(downsample64(luma, rows, cols));
}

// PDQ of RGBA pixels (alpha ignored), as pdqhash.compute() on the RGB array.
export function pdqFromRGBA(rgba, width, height) {
  if (width < MIN_DIM || height < MIN_DIM) return { pdq: ZERO_HASH, pdqQuality: 0 };
  const luma = lumaFromRGBA(rgba, width * height, new Float32Array(width * height));
  return pdqFromLuma(luma, height, width);
}
