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

// One box-filter pass over `lanes` interleaved vectors of length `len`:
// element t of lane b is at src[t * srcStride + b]. Mirrors the C++ box1DFloat phases exactly:
// the window grows from the leading edge, slides, then shrinks at the trailing edge, and each output is
// (running float32 sum) / (number of samples currently in the window).
function boxLanes(src, srcStride, dst, dstOffset, dstStride, len, lanes, full, sums) {
  const half = Math.floor((full + 2) / 2);
  const p1 = half - 1;
  const p2 = full - half + 1;
  const p3 = len - full;
  const p4 = half - 1;
  sums.fill(0, 0, lanes);
  let ri = 0, li = 0, oi = 0, cnt = 0;
  for (let i = 0; i < p1; i++, ri++) {
    const s = ri * srcStride;
    for (let b = 0; b < lanes; b++) sums[b] += src[s + b];
    cnt++;
  }
  for (let i = 0; i < p2; i++, ri++, oi++) {
    const s = ri * srcStride, d = dstOffset + oi * dstStride;
    cnt++;
    for (let b = 0; b < lanes; b++) {
      sums[b] += src[s + b];
      dst[d + b] = sums[b] / cnt;
    }
  }
  for (let i = 0; i < p3; i++, ri++, li++, oi++) {
    const s = ri * srcStride, l = li * srcStride, d = dstOffset + oi * dstStride;
    for (let b = 0; b < lanes; b++) {
      sums[b] += src[s + b];
      sums[b] -= src[l + b];
      dst[d + b] = sums[b] / cnt;
    }
  }
  for (let i = 0; i < p4; i++, li++, oi++) {
    const l = li * srcStride, d = dstOffset + oi * dstStride;
    cnt--;
    for (let b = 0; b < lanes; b++) {
      sums[b] -= src[l + b];
      dst[d + b] = sums[b] / cnt;
    }
  }
}

// Box filter along every row, in place (through one scratch row).
function boxRows(buf, rows, cols, full, scratch, sums) {
  for (let r = 0; r < rows; r++) {
    const row = buf.subarray(r * cols, (r + 1) * cols);
    boxLanes(row, 1, scratch, 0, 1, cols, 1, full, sums);
    row.set(scratch.subarray(0, cols));
  }
}

// Box filter along every column, in place. Columns are processed in blocks that run in lockstep row by
// row (same arithmetic per column, but cache-friendly); each block is first copied out because the
// filter reads samples behind the one it writes.
const BLOCK = 64;
function boxCols(buf, rows, cols, full, block, sums) {
  for (let c0 = 0; c0 < cols; c0 += BLOCK) {
    const lanes = Math.min(BLOCK, cols - c0);
    for (let r = 0; r < rows; r++) {
      const s = r * cols + c0;
      for (let b = 0; b < lanes; b++) block[r * lanes + b] = buf[s + b];
    }
    boxLanes(block, lanes, buf, c0, cols, rows, lanes, full, sums);
  }
}

// Two passes of (rows, then columns) box filtering — the Jarosz tent — then sampling at the centres of
// 64x64 cells. Overwrites `luma`. Returns the 64x64 float32 buffer.
export function downsample64(luma, rows, cols, onPass) {
  const wRows = windowSize(cols);   // window along each row
  const wCols = windowSize(rows);   // window along each column
  const scratch = new Float32Array(cols);
  const block = new Float32Array(rows * Math.min(BLOCK, cols));
  const sums = new Float32Array(BLOCK);
  for (let pass = 0; pass < 2; pass++) {
    boxRows(luma, rows, cols, wRows, scratch, sums);
    if (onPass) onPass(pass * 2 + 1);
    boxCols(luma, rows, cols, wCols, block, sums);
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
