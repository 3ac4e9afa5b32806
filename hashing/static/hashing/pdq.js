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

// One box-filter pass over a contiguous vector (a row), mirroring the C++ box1DFloat phases exactly:
// the window grows from the leading edge, slides, then shrinks at the trailing edge, and each output
// is (running float32 sum) / (number of samples currently in the window).
function boxRow(src, s0, dst, len, full) {
  const f = Math.fround;
  const half = Math.floor((full + 2) / 2);
  let ri = s0, li = s0, oi = 0, cnt = 0, sum = 0;
  for (let i = 0; i < half - 1; i++) { sum = f(sum + src[ri++]); cnt++; }
  for (let i = 0; i < full - half + 1; i++) { sum = f(sum + src[ri++]); cnt++; dst[oi++] = sum / cnt; }
  for (let i = 0; i < len - full; i++) {
    sum = f(sum + src[ri++]);
    sum = f(sum - src[li++]);
    dst[oi++] = sum / cnt;
  }
  for (let i = 0; i < half - 1; i++) { sum = f(sum - src[li++]); cnt--; dst[oi++] = sum / cnt; }
}

// Box filter along every row, in place (through one scratch row).
function boxRows(buf, rows, cols, full, scratch) {
  for (let r = 0; r < rows; r++) {
    boxRow(buf, r * cols, scratch, cols, full);
    buf.set(scratch, r * cols);
  }
}

// Box filter along every column, in place: all columns advance together one row at a time (same
// arithmetic per column as the C++, cache-friendly). The filter reads each input row again `lag`
// rows after it has written that row's output, so input rows are saved in a ring before overwriting.
function boxCols(buf, rows, cols, full, sums) {
  const half = Math.floor((full + 2) / 2);
  const lag = full - half + 1;
  const ring = new Float32Array(lag * cols);
  sums.fill(0);
  let ri = 0, li = 0, oi = 0, cnt = 0;
  for (let i = 0; i < half - 1; i++, ri++) {
    const r = ri * cols;
    for (let c = 0; c < cols; c++) sums[c] += buf[r + c];
    cnt++;
  }
  for (let i = 0; i < full - half + 1; i++, ri++, oi++) {
    const r = ri * cols, o = oi * cols, save = (oi % lag) * cols;
    cnt++;
    for (let c = 0; c < cols; c++) {
      sums[c] += buf[r + c];
      ring[save + c] = buf[o + c];
      buf[o + c] = sums[c] / cnt;
    }
  }
  for (let i = 0; i < rows - full; i++, ri++, li++, oi++) {
    const r = ri * cols, l = (li % lag) * cols, o = oi * cols, save = (oi % lag) * cols;
    for (let c = 0; c < cols; c++) {
      sums[c] += buf[r + c];
      sums[c] -= ring[l + c]; // read before the same ring slot is refilled just below
      ring[save + c] = buf[o + c];
      buf[o + c] = sums[c] / cnt;
    }
  }
  for (let i = 0; i < half - 1; i++, li++, oi++) {
    const l = (li % lag) * cols, o = oi * cols, save = (oi % lag) * cols;
    cnt--;
    for (let c = 0; c < cols; c++) {
      sums[c] -= ring[l + c];
      ring[save + c] = buf[o + c];
      buf[o + c] = sums[c] / cnt;
    }
  }
}

// Two passes of (rows, then columns) box filtering — the Jarosz tent — then sampling at the centres of
// 64x64 cells. Overwrites `luma`. Returns the 64x64 float32 buffer.
export function downsample64(luma, rows, cols, onPass) {
  const wRows = windowSize(cols);   // window along each row
  const wCols = windowSize(rows);   // window along each column
  const scratch = new Float32Array(cols);
  const sums = new Float32Array(cols);
  for (let pass = 0; pass < 2; pass++) {
    boxRows(luma, rows, cols, wRows, scratch);
    if (onPass) onPass(pass * 2 + 1);
    boxCols(luma, rows, cols, wCols, sums);
    if (onPass) onPass(pass * 2 + 2);
  }
  const out = new Float32Array(OUT * OUT);
  for (let i = 0; i < OUT; i++) {
    const ini = Math.floor(((i + 0.5) * rows) / OUT);
    for (let j = 0; j < OUT; j++) {
      const inj = Math.floor(((j + 0.5) * cols) / OUT);
      out[i * OUT + j] = luma[ini * cols + inj];
    }
  }
  return out;
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

// PDQ from a float32 luminance buffer (rows x cols, row-major). The buffer is used as scratch.
export function pdqFromLuma(luma, rows, cols, onPass) {
  if (rows < MIN_DIM || cols < MIN_DIM) return { pdq: ZERO_HASH, pdqQuality: 0 };
  const a = downsample64(luma, rows, cols, onPass);
  const pdqQuality = quality64(a);
  return { pdq: bitsToHex(dct64To16(a)), pdqQuality };
}

// PDQ of RGBA pixels (alpha ignored), as pdqhash.compute() on the RGB array.
export function pdqFromRGBA(rgba, width, height) {
  if (width < MIN_DIM || height < MIN_DIM) return { pdq: ZERO_HASH, pdqQuality: 0 };
  const luma = lumaFromRGBA(rgba, width * height, new Float32Array(width * height));
  return pdqFromLuma(luma, height, width);
}
