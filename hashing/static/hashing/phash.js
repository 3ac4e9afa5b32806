// imagehash 4.3.x pHash, bit-identical to `str(imagehash.phash(img))` on the same pixels:
//   img.convert("L").resize((32, 32), LANCZOS) -> scipy.fftpack.dct(dct(px, axis=0), axis=1)
//   -> dct[:8, :8] > median -> 16 hex chars.
// Each step reproduces the arithmetic of the library that defines it: Pillow's integer L formula and
// its fixed-point Lanczos resampler, and pocketfft's DCT-II (what scipy.fftpack runs). Reproducing the
// FFT's own rounding matters: on flat or symmetric images many coefficients are zero in exact
// arithmetic, and the hash bits then depend on the exact rounding noise.

const SIZE = 32;
const PRECISION_BITS = 22; // Pillow: 32 - 8 - 2

// Pillow convert("L") from RGB (ITU-R 601-2 in 16-bit fixed point).
export function greyFromRGBA(rgba, count, out, outOffset = 0) {
  for (let i = 0, p = 0; i < count; i++, p += 4) {
    out[outOffset + i] = (rgba[p] * 19595 + rgba[p + 1] * 38470 + rgba[p + 2] * 7471 + 0x8000) >> 16;
  }
  return out;
}

function sinc(x) {
  if (x === 0.0) return 1.0;
  x = x * Math.PI;
  return Math.sin(x) / x;
}

function lanczos(x) {
  return -3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0;
}

// Pillow precompute_coeffs + normalize_coeffs_8bpc for LANCZOS, inSize -> outSize, box (0, inSize).
// Returns {ksize, bounds: Int32Array [xmin, n, ...], kk: Int32Array fixed-point weights}.
export function lanczosCoeffs(inSize, outSize = SIZE) {
  const in1 = Math.fround(inSize); // Pillow's box is float
  const scale = in1 / outSize;
  const filterscale = scale < 1.0 ? 1.0 : scale;
  const support = 3.0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const kk = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1.0 / filterscale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    let ww = 0.0;
    for (let x = 0; x < xmax; x++) {
      const w = lanczos((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0.0 ? k[x] / ww : k[x];
      // round half away from zero, as (int)(w * 2^22 +- 0.5)
      kk[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS))
                                 : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, kk };
}

function clip8(ss) {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

// Horizontal pass for `rows` rows of `width` grey pixels (src at srcOffset, row-major) into
// dst (rows x 32, row-major, uint8) starting at dstRow. Lets callers feed strips as they decode.
// The sums are exact integers (well below 2^53), so their order is free: two rows share each weight
// load, and two partial sums per row shorten the chain of dependent additions.
export function resampleRows(src, srcOffset, width, rows, coeffs, dst, dstRow) {
  const { ksize, bounds, kk } = coeffs;
  let y = 0;
  for (; y + 2 <= rows; y += 2) {
    const r0 = srcOffset + y * width, r1 = r0 + width, outBase = (dstRow + y) * SIZE;
    for (let xx = 0; xx < SIZE; xx++) {
      const xmin = bounds[xx * 2], n = bounds[xx * 2 + 1], kb = xx * ksize;
      const a0 = r0 + xmin, a1 = r1 + xmin;
      let s0 = 1 << (PRECISION_BITS - 1), t0 = 0, s1 = s0, t1 = 0, x = 0;
      for (; x + 2 <= n; x += 2) {
        const k = kk[kb + x], l = kk[kb + x + 1];
        s0 += src[a0 + x] * k; t0 += src[a0 + x + 1] * l;
        s1 += src[a1 + x] * k; t1 += src[a1 + x + 1] * l;
      }
      if (x < n) { s0 += src[a0 + x] * kk[kb + x]; s1 += src[a1 + x] * kk[kb + x]; }
      dst[outBase + xx] = clip8(s0 + t0);
      dst[outBase + SIZE + xx] = clip8(s1 + t1);
    }
  }
  for (; y < rows; y++) {
    const rowBase = srcOffset + y * width, outBase = (dstRow + y) * SIZE;
    for (let xx = 0; xx < SIZE; xx++) {
      const xmin = bounds[xx * 2], n = bounds[xx * 2 + 1], kb = xx * ksize;
      let ss = 1 << (PRECISION_BITS - 1);
      for (let x = 0; x < n; x++) ss += src[rowBase + xmin + x] * kk[kb + x];
      dst[outBase + xx] = clip8(ss);
    }
  }
}

// Vertical pass: (height x 32) -> (32 x 32).
function resampleCols(src, height, coeffs) {
  const { ksize, bounds, kk } = coeffs;
  const out = new Uint8Array(SIZE * SIZE);
  for (let yy = 0; yy < SIZE; yy++) {
    const ymin = bounds[yy * 2], n = bounds[yy * 2 + 1], kb = yy * ksize;
    for (let xx = 0; xx < SIZE; xx++) {
      let ss = 1 << (PRECISION_BITS - 1);
      for (let y = 0; y < n; y++) ss += src[(ymin + y) * SIZE + xx] * kk[kb + y];
      out[yy * SIZE + xx] = clip8(ss);
    }
  }
  return out;
}

// Incremental Pillow LANCZOS resize of a grey image to 32x32: feed rows top to bottom with addRows,
// then finish(). Pillow skips a pass whose axis already has the target size. When both passes are
// needed, Pillow 13 runs the vertical one first for tall images: measured against Pillow 13.0 on
// ~3,000 random sizes, vertical-first happens exactly when h > max(2w - 32, 32). The two orders round
// the uint8 intermediate differently, so the order is part of the hash.
export class GreyResizer {
  constructor(width, height) {
    this.width = width;
    this.height = height;
    this.filled = 0;
    this.verticalFirst = width !== SIZE && height !== SIZE && height > Math.max(2 * width - SIZE, SIZE);
    this.hCoeffs = width === SIZE ? null : lanczosCoeffs(width);
    if (this.verticalFirst) {
      // Accumulate the vertical pass as rows stream in: integer sums are order-independent.
      this.vCoeffs = lanczosCoeffs(height);
      this.acc = new Float64Array(SIZE * width).fill(1 << (PRECISION_BITS - 1));
    } else {
      this.rows = new Uint8Array(height * SIZE);
    }
  }
  addRows(grey, offset, count) {
    if (this.verticalFirst) {
      const { ksize, bounds, kk } = this.vCoeffs, w = this.width, acc = this.acc;
      for (let r = 0; r < count; r++) {
        const y = this.filled + r, rowBase = offset + r * w;
        for (let yy = 0; yy < SIZE; yy++) {
          const ymin = bounds[yy * 2], n = bounds[yy * 2 + 1];
          if (y < ymin || y >= ymin + n) continue;
          const k = kk[yy * ksize + (y - ymin)], ab = yy * w;
          if (k === 0) continue;
          for (let x = 0; x < w; x++) acc[ab + x] += grey[rowBase + x] * k;
        }
      }
    } else if (this.hCoeffs) {
      resampleRows(grey, offset, this.width, count, this.hCoeffs, this.rows, this.filled);
    } else {
      this.rows.set(grey.subarray(offset, offset + count * SIZE), this.filled * SIZE);
    }
    this.filled += count;
  }
  finish() {
    if (this.verticalFirst) {
      const mid = new Uint8Array(SIZE * this.width);
      for (let i = 0; i < mid.length; i++) mid[i] = clip8(this.acc[i]);
      const out = new Uint8Array(SIZE * SIZE);
      resampleRows(mid, 0, this.width, SIZE, this.hCoeffs, out, 0);
      return out;
    }
    if (this.height === SIZE) return this.rows;
    return resampleCols(this.rows, this.height, lanczosCoeffs(this.height));
  }
}

// ---- pocketfft DCT-II, N = 32, unnormalised (scipy.fftpack.dct default) ----
// Twiddles as pocketfft's sincos_2pibyn computes them (glibc cos/sin, then its two-table product),
// written out so every browser uses the same doubles. DCT_TW[i] = cos(2*pi*(i+1)/128).
const DCT_TW = [0.9987954562051724, 0.9951847266721969, 0.989176509964781, 0.9807852804032304,
  0.970031253194544, 0.9569403357322088, 0.9415440651830208, 0.9238795325112867, 0.9039892931234433,
  0.881921264348355, 0.8577286100002721, 0.8314696123025452, 0.8032075314806449, 0.773010453362737,
  0.7409511253549591, 0.7071067811865475, 0.6715589548470183, 0.6343932841636455, 0.5956993044924332,
  0.5555702330196022, 0.5141027441932217, 0.47139673682599753, 0.42755509343028203,
  0.38268343236508967, 0.33688985339221994, 0.2902846772544623, 0.24298017990326393,
  0.19509032201612825, 0.14673047445536164, 0.09801714032956049, 0.04906767432741799, -0.0];
// Real FFT of length 32 factors as 2 x 4 x 4; twiddles (re, im) of the radix-2 and first radix-4 pass.
const RADB2_TW = [0.9807852804032304, 0.19509032201612825, 0.9238795325112867, 0.3826834323650898,
  0.8314696123025452, 0.5555702330196022, 0.7071067811865475, 0.7071067811865476, 0.5555702330196022,
  0.8314696123025452, 0.3826834323650898, 0.9238795325112867, 0.19509032201612825,
  0.9807852804032304];
// Laid out as pocketfft stores them: pass j at offset (j-1)*(ido-1), ido = 4 (slots 2 and 5 unused).
const RADB4_TW = [0.9238795325112867, 0.3826834323650898, 0, 0.7071067811865475, 0.7071067811865476, 0,
  0.3826834323650898, 0.9238795325112867];
const SQRT2 = 1.4142135623730951;

// FFTPACK radix-2 backward pass (halfcomplex -> real), pocketfft's radb2 operation order.
function radb2(ido, l1, cc, ch, wa) {
  const CC = (a, b, c) => a + ido * (b + 2 * c);
  const CH = (a, b, c) => a + ido * (b + l1 * c);
  for (let k = 0; k < l1; k++) {
    const x = cc[CC(0, 0, k)], y = cc[CC(ido - 1, 1, k)];
    ch[CH(0, k, 0)] = x + y;
    ch[CH(0, k, 1)] = x - y;
  }
  if ((ido & 1) === 0) {
    for (let k = 0; k < l1; k++) {
      ch[CH(ido - 1, k, 0)] = 2 * cc[CC(ido - 1, 0, k)];
      ch[CH(ido - 1, k, 1)] = -2 * cc[CC(0, 1, k)];
    }
  }
  if (ido <= 2) return;
  for (let k = 0; k < l1; k++) {
    for (let i = 2; i < ido; i += 2) {
      const ic = ido - i;
      const a = cc[CC(i - 1, 0, k)], b = cc[CC(ic - 1, 1, k)];
      ch[CH(i - 1, k, 0)] = a + b;
      const tr2 = a - b;
      const c = cc[CC(i, 0, k)], d = cc[CC(ic, 1, k)];
      const ti2 = c + d;
      ch[CH(i, k, 0)] = c - d;
      const w0 = wa[i - 2], w1 = wa[i - 1];
      ch[CH(i, k, 1)] = w0 * ti2 + w1 * tr2;
      ch[CH(i - 1, k, 1)] = w0 * tr2 - w1 * ti2;
    }
  }
}

// FFTPACK radix-4 backward pass, pocketfft's radb4 operation order.
function radb4(ido, l1, cc, ch, wa) {
  const CC = (a, b, c) => a + ido * (b + 4 * c);
  const CH = (a, b, c) => a + ido * (b + l1 * c);
  const WA = (x, i) => wa[i + x * (ido - 1)];
  for (let k = 0; k < l1; k++) {
    const a = cc[CC(0, 0, k)], b = cc[CC(ido - 1, 3, k)];
    const tr2 = a + b, tr1 = a - b;
    const tr3 = 2 * cc[CC(ido - 1, 1, k)];
    const tr4 = 2 * cc[CC(0, 2, k)];
    ch[CH(0, k, 0)] = tr2 + tr3;
    ch[CH(0, k, 2)] = tr2 - tr3;
    ch[CH(0, k, 3)] = tr1 + tr4;
    ch[CH(0, k, 1)] = tr1 - tr4;
  }
  if ((ido & 1) === 0) {
    for (let k = 0; k < l1; k++) {
      const a = cc[CC(0, 3, k)], b = cc[CC(0, 1, k)];
      const ti1 = a + b, ti2 = a - b;
      const c = cc[CC(ido - 1, 0, k)], d = cc[CC(ido - 1, 2, k)];
      const tr2 = c + d, tr1 = c - d;
      ch[CH(ido - 1, k, 0)] = tr2 + tr2;
      ch[CH(ido - 1, k, 1)] = SQRT2 * (tr1 - ti1);
      ch[CH(ido - 1, k, 2)] = ti2 + ti2;
      ch[CH(ido - 1, k, 3)] = -SQRT2 * (tr1 + ti1);
    }
  }
  if (ido <= 2) return;
  for (let k = 0; k < l1; k++) {
    for (let i = 2; i < ido; i += 2) {
      const ic = ido - i;
      let a = cc[CC(i - 1, 0, k)], b = cc[CC(ic - 1, 3, k)];
      const tr2 = a + b, tr1 = a - b;
      a = cc[CC(i, 0, k)]; b = cc[CC(ic, 3, k)];
      const ti1 = a + b, ti2 = a - b;
      a = cc[CC(i, 2, k)]; b = cc[CC(ic, 1, k)];
      const tr4 = a + b, ti3 = a - b;
      a = cc[CC(i - 1, 2, k)]; b = cc[CC(ic - 1, 1, k)];
      const tr3 = a + b, ti4 = a - b;
      ch[CH(i - 1, k, 0)] = tr2 + tr3;
      const cr3 = tr2 - tr3;
      ch[CH(i, k, 0)] = ti2 + ti3;
      const ci3 = ti2 - ti3;
      const cr4 = tr1 + tr4, cr2 = tr1 - tr4;
      const ci2 = ti1 + ti4, ci4 = ti1 - ti4;
      // MULPM(a, b, c, d, e, f): a = c*e + d*f; b = c*f - d*e
      ch[CH(i, k, 1)] = WA(0, i - 2) * ci2 + WA(0, i - 1) * cr2;
      ch[CH(i - 1, k, 1)] = WA(0, i - 2) * cr2 - WA(0, i - 1) * ci2;
      ch[CH(i, k, 2)] = WA(1, i - 2) * ci3 + WA(1, i - 1) * cr3;
      ch[CH(i - 1, k, 2)] = WA(1, i - 2) * cr3 - WA(1, i - 1) * ci3;
      ch[CH(i, k, 3)] = WA(2, i - 2) * ci4 + WA(2, i - 1) * cr4;
      ch[CH(i - 1, k, 3)] = WA(2, i - 2) * cr4 - WA(2, i - 1) * ci4;
    }
  }
}

// In-place unnormalised DCT-II of 32 doubles, step for step as pocketfft's T_dcst23 (type 2).
const scratch = new Float64Array(SIZE);
export function dct32(c) {
  const N = SIZE, NS2 = N >> 1;
  c[0] *= 2;
  c[N - 1] *= 2;
  for (let k = 1; k < N - 1; k += 2) {
    const t = c[k + 1];
    c[k + 1] = t - c[k];
    c[k] = t + c[k];
  }
  // backward real FFT: passes 2 (ido 16), 4 (ido 4), 4 (ido 1), ping-ponging buffers
  radb2(16, 1, c, scratch, RADB2_TW);
  radb4(4, 2, scratch, c, RADB4_TW);
  radb4(1, 8, c, scratch, null);
  c.set(scratch);
  for (let k = 1, kc = N - 1; k < NS2; k++, kc--) {
    const t1 = DCT_TW[k - 1] * c[kc] + DCT_TW[kc - 1] * c[k];
    const t2 = DCT_TW[k - 1] * c[k] - DCT_TW[kc - 1] * c[kc];
    c[k] = 0.5 * (t1 + t2);
    c[kc] = 0.5 * (t1 - t2);
  }
  c[NS2] *= DCT_TW[NS2 - 1];
  return c;
}

// pHash of a 32x32 grey image (uint8, row-major).
export function phashFrom32(px) {
  const v = new Float64Array(SIZE);
  const cols = new Float64Array(SIZE * SIZE); // axis-0 DCT result, row-major
  for (let x = 0; x < SIZE; x++) {
    for (let y = 0; y < SIZE; y++) v[y] = px[y * SIZE + x];
    dct32(v);
    for (let y = 0; y < SIZE; y++) cols[y * SIZE + x] = v[y];
  }
  const low = new Float64Array(64);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < SIZE; x++) v[x] = cols[y * SIZE + x];
    dct32(v);
    for (let x = 0; x < 8; x++) low[y * 8 + x] = v[x];
  }
  const sorted = Float64Array.from(low).sort();
  const median = (sorted[31] + sorted[32]) / 2; // numpy.median of an even count
  let hex = "";
  for (let n = 0; n < 64; n += 4) {
    let nibble = 0;
    for (let b = 0; b < 4; b++) nibble = (nibble << 1) | (low[n + b] > median ? 1 : 0);
    hex += nibble.toString(16);
  }
  return hex;
}

// pHash of RGBA pixels (alpha ignored).
export function phashFromRGBA(rgba, width, height) {
  const grey = greyFromRGBA(rgba, width * height, new Uint8Array(width * height));
  const r = new GreyResizer(width, height);
  r.addRows(grey, 0, height);
  return phashFrom32(r.finish());
}
