// YUV -> RGB24 exactly as FFmpeg's libswscale does it for the Python reference (hashing/video.py, the vpdq package's
// settings: same size, area filter, BT.601 coefficients, limited range unless the frame says full), so that a
// decoded frame gives the reference's RGB bytes and hence its PDQ. Checked against PyAV's swscale on random frames
// of many sizes (tests/test_video_hasher_parity.py). swscale takes one of three routes:
//
//  A. 4:2:0 or 4:2:2 with an even height: the unscaled converter (libswscale/x86/yuv_2_rgb.asm): 16-bit fixed
//     point, nearest chroma.
//  B. otherwise, an even width: the scaler, chroma interpolated down the rows by swscale's bilinear filter
//     (initFilter), kept at half width, then yuv2rgb.c's lookup tables (output.c yuv2rgb_X_c_template).
//  C. otherwise (an odd width forces full horizontal chroma): chroma interpolated along (hScale8To15) and down
//     (output.c's yuv2rgb_full_2: no rounding term), then yuv2rgb_write_full's 30-bit arithmetic, with the
//     32-bit wrap-around of its unsigned sums.
//
// Names follow FFmpeg's: crv, cbu, cgu, cgv (the inverse table), cy, oy, filterPos.

const BT601 = [104597, 132201, 25675, 53279]; // ff_yuv2rgb_coeffs[SWS_CS_DEFAULT]: crv, cbu, cgu, cgv
const clamp8 = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);
const round16 = (f) => Math.floor((f + 32768) / 65536); // roundToInt16 (never clipped for these values)

// ff_yuv2rgb_c_init_tables, contrast, saturation and brightness at their defaults.
function coefficients(fullRange) {
  let crv = BT601[0], cbu = BT601[1], cgu = -BT601[2], cgv = -BT601[3], cy = 65536, oy = 0;
  if (fullRange) {
    [crv, cbu, cgu, cgv] = [crv, cbu, cgu, cgv].map((c) => Math.trunc((c * 224) / 255));
  } else {
    cy = Math.trunc((cy * 255) / 219);
    oy = 16 * 65536;
  }
  return { crv, cbu, cgu, cgv, cy, oy };
}

// Route A's terms: R, G and B are clamped sums of a term of Y and terms of U and V (pmulhw(a, b) = (a * b) >> 16).
function simdTerms(k) {
  const yCoeff = round16(k.cy * 8192), yOffset = round16(k.oy * 8);
  const vr = round16(k.crv * 8192), ub = round16(k.cbu * 8192), ug = round16(k.cgu * 8192);
  const vg = round16(k.cgv * 8192);
  const t = { y: new Int32Array(256), rV: new Int32Array(256), gU: new Int32Array(256), gV: new Int32Array(256),
    bU: new Int32Array(256) };
  for (let i = 0; i < 256; i++) {
    t.y[i] = ((i * 8 - yOffset) * yCoeff) >> 16;
    const c = i * 8 - 1024; // (U << 3) - uOffset
    t.rV[i] = (c * vr) >> 16;
    t.gU[i] = (c * ug) >> 16;
    t.gV[i] = (c * vg) >> 16;
    t.bU[i] = (c * ub) >> 16;
  }
  return t;
}

// Route B's tables (the 24-bit case): value = y_table[yoffs + Y + shift(chroma)], shift(c) = (c * inc >> 16) -
// (inc >> 9) with inc the coefficient rescaled by cy. Here `lut` is y_table offset so that lut[OFF + k] is the
// table entry k places from yoffs.
const LUT_OFF = 512;
function tableTerms(k, fullRange) {
  const scale = (c) => Math.trunc((c * 65536 + 0x8000) / k.cy);
  const crv = scale(k.crv), cbu = scale(k.cbu), cgu = scale(k.cgu), cgv = scale(k.cgv);
  const yoffs = fullRange ? 384 : 326;
  const lut = new Uint8Array(2 * LUT_OFF + 256);
  for (let i = 0; i < lut.length; i++) {
    lut[i] = clamp8(Math.floor(((yoffs + i - LUT_OFF) * k.cy - 384 * 65536 - k.oy + 0x8000) / 65536));
  }
  const shift = (inc) => Int32Array.from({ length: 256 }, (_, c) => Math.floor((c * inc) / 65536) -
    Math.floor(inc / 512));
  return { lut, rV: shift(crv), gU: shift(cgu), gV: shift(cgv), bU: shift(cbu) };
}

// Route C's coefficients (yuv2rgb_y_coeff etc., int16).
function fullTerms(k) {
  return { yCoeff: round16(k.cy * 8192), yOffset: round16(k.oy * 512), v2r: round16(k.crv * 8192),
    v2g: round16(k.cgv * 8192), u2g: round16(k.cgu * 8192), u2b: round16(k.cbu * 8192) };
}

const TERMS = [false, true].map((full) => {
  const k = coefficients(full);
  return { simd: simdTerms(k), table: tableTerms(k, full), full: fullTerms(k) };
});

// swscale's initFilter for upscaling src samples to dst (chroma sited at the centre on both sides, as swscale's
// defaults place it), the area/bilinear branch; then its size reduction, alignment to `align` taps, border fixes
// and normalisation to `one` with error diffusion. BigInt: the arithmetic is 64-bit. Returns {pos, taps, size}.
function upscaleFilter(srcW, dstW, one, align) {
  const taps = new Int32Array(dstW * Math.max(align, 2)), pos = new Int32Array(dstW);
  if (srcW === dstW) {                              // unscaled: one tap of weight `one`
    const size = 1;
    for (let i = 0; i < dstW; i++) { pos[i] = i; taps[i * size] = one; }
    return { pos, taps, size };
  }
  const xInc = ((BigInt(srcW) << 16n) + BigInt(dstW >> 1)) / BigInt(dstW);
  const fone = 1n << 54n;
  const abs = (v) => (v < 0n ? -v : v);
  const fs = 2;
  const filter = [];
  let x = ((128n * xInc) >> 8n) - ((128n * 0x8000n) >> 7n);
  for (let i = 0; i < dstW; i++) {
    let xx = Number((x - (BigInt(fs - 1) << 15n) + (1n << 15n)) >> 16n);
    pos[i] = xx;
    const row = [];
    for (let j = 0; j < fs; j++, xx++) {
      const c = fone - abs(BigInt(xx) * 65536n - x) * (fone >> 16n);
      row.push(c < 0n ? 0n : c);
    }
    filter.push(row);
    x += xInc;
  }
  // Near-zero taps on the left are shifted out (SWS_MAX_REDUCE_CUTOFF = 0.002), keeping positions monotonic.
  const cutoff = fone / 500n;
  let minSize = 0;
  for (let i = dstW - 1; i >= 0; i--) {
    const f = filter[i];
    let cut = 0n;
    for (let j = 0; j < fs; j++) {
      cut += abs(f[0]);
      if (cut > cutoff) break;
      if (i < dstW - 1 && pos[i] >= pos[i + 1]) break;
      f.push(f.shift() * 0n);
      pos[i]++;
    }
    let min = fs;
    cut = 0n;
    for (let j = fs - 1; j > 0; j--) {
      cut += abs(f[j]);
      if (cut > cutoff) break;
      min--;
    }
    minSize = Math.max(minSize, min);
  }
  const size = (minSize + align - 1) & ~(align - 1);
  for (let i = 0; i < dstW; i++) {
    const f = filter[i];
    while (f.length < size) f.push(0n);
    f.length = size;
    if (pos[i] < 0) {
      for (let j = 1; j < size; j++) {
        const left = Math.max(j + pos[i], 0);
        f[left] += f[j];
        f[j] = 0n;
      }
      pos[i] = 0;
    }
    if (pos[i] + size > srcW) {
      const shift = pos[i] + Math.min(size - srcW, 0);
      let acc = 0n;
      for (let j = size - 1; j >= 0; j--) {
        if (pos[i] + j >= srcW) { acc += f[j]; f[j] = 0n; }
      }
      for (let j = size - 1; j >= 0; j--) f[j] = j < shift ? 0n : f[j - shift];
      pos[i] -= shift;
      f[srcW - 1 - pos[i]] += acc;
    }
    let sum = f.reduce((a, b) => a + b, 0n);
    sum = (sum + BigInt(one) / 2n) / BigInt(one);
    if (sum === 0n) sum = 1n;
    let error = 0n;
    for (let j = 0; j < size; j++) {
      const v = f[j] + error;
      const q = v >= 0n ? (v + sum / 2n) / sum : (v - sum / 2n) / sum; // ROUNDED_DIV
      taps[i * size + j] = Number(q);
      error = v - q * sum;
    }
  }
  return { pos, taps, size };
}

// Chroma subsampling (log2) of the 8-bit layouts VideoFrame.copyTo gives.
const SUBSAMPLING = { I420: [1, 1], I420A: [1, 1], NV12: [1, 1], I422: [1, 0], I422A: [1, 0], I444: [0, 0],
  I444A: [0, 0] };

export function canConvert(format) {
  return format in SUBSAMPLING;
}

// Converts frames of one size and format to PDQ luminance rows (pdq.js lumaFromRGBA's arithmetic on the RGB24
// swscale gives: float64 R*0.299 + G*0.587 + B*0.114, one rounding to float32 by the store).
export class FrameConverter {
  constructor(format, width, height, fullRange) {
    const [sx, sy] = SUBSAMPLING[format];
    this.width = width;
    this.height = height;
    this.sx = sx;
    this.sy = sy;
    this.terms = TERMS[fullRange ? 1 : 0];
    const chromaW = (width + (1 << sx) - 1) >> sx, chromaH = (height + (1 << sy) - 1) >> sy;
    this.chromaW = chromaW;
    if (sx === 1 && height % 2 === 0) {
      this.route = "A";
      this.rowFilter = null;                        // chroma row y >> sy
    } else {
      this.route = sx === 1 && width % 2 === 0 ? "B" : "C";
      this.rowFilter = upscaleFilter(chromaH, height, 1 << 12, 2);
    }
    if (this.route === "C") {
      this.colFilter = upscaleFilter(chromaW, width, 1 << 14, 4);
      this.uRows = new Map();                      // chroma row -> horizontally scaled 15-bit U, V
    }
  }

  // PDQ luminance of rows [y0, y0 + count) into luma[0 ...]. `p`: {data, yOff, yStride, uOff, vOff, cStride, cStep}.
  lumaRows(p, y0, count, luma) {
    if (this.route === "A") this.routeA(p, y0, count, luma);
    else if (this.route === "B") this.routeB(p, y0, count, luma);
    else this.routeC(p, y0, count, luma);
  }

  routeA(p, y0, count, luma) {
    const { data, yOff, yStride, uOff, vOff, cStride, cStep } = p;
    const { y: Y, rV, gU, gV, bU } = this.terms.simd;
    const width = this.width;
    let d = 0;
    for (let y = y0; y < y0 + count; y++) {
      const yRow = yOff + y * yStride, cRow = (y >> this.sy) * cStride;
      for (let x = 0; x < width; x++) {
        const c = cRow + (x >> 1) * cStep;
        const yt = Y[data[yRow + x]], u = data[uOff + c], v = data[vOff + c];
        luma[d++] = clamp8(yt + rV[v]) * 0.299 + clamp8(yt + gU[u] + gV[v]) * 0.587 + clamp8(yt + bU[u]) * 0.114;
      }
    }
  }

  routeB(p, y0, count, luma) {
    const { data, yOff, yStride, uOff, vOff, cStride, cStep } = p;
    const { lut, rV, gU, gV, bU } = this.terms.table;
    const width = this.width, half = this.chromaW;
    const u = new Int32Array(half), v = new Int32Array(half);
    let d = 0;
    for (let y = y0; y < y0 + count; y++) {
      const yRow = yOff + y * yStride;
      if (this.rowFilter) {                         // output.c yuv2rgb_X: ((1 << 18) + sum(c15 * tap)) >> 19
        const { pos, taps, size } = this.rowFilter;
        for (let i = 0; i < half; i++) {
          let su = 1 << 18, sv = 1 << 18;
          for (let j = 0; j < size; j++) {
            const t = taps[y * size + j];
            if (!t) continue;
            const c = (pos[y] + j) * cStride + i * cStep;
            su += (data[uOff + c] << 7) * t;
            sv += (data[vOff + c] << 7) * t;
          }
          u[i] = su >> 19;
          v[i] = sv >> 19;
        }
      } else {
        const cRow = (y >> this.sy) * cStride;
        for (let i = 0; i < half; i++) { u[i] = data[uOff + cRow + i * cStep]; v[i] = data[vOff + cRow + i * cStep]; }
      }
      for (let x = 0; x < width; x++) {
        const i = x >> 1, yv = data[yRow + x] + LUT_OFF;
        luma[d++] = lut[yv + rV[v[i]]] * 0.299 + lut[yv + gU[u[i]] + gV[v[i]]] * 0.587 + lut[yv + bU[u[i]]] * 0.114;
      }
    }
  }

  // One chroma row scaled to full width (hScale8To15: sum(c * tap) >> 7, at most 2^15 - 1).
  chromaRow(p, row) {
    let scaled = this.uRows.get(row);
    if (scaled) return scaled;
    const { data, uOff, vOff, cStride, cStep } = p;
    const { pos, taps, size } = this.colFilter;
    const width = this.width, u = new Int32Array(width), v = new Int32Array(width);
    for (let x = 0; x < width; x++) {
      let su = 0, sv = 0;
      for (let j = 0; j < size; j++) {
        const t = taps[x * size + j];
        if (!t) continue;
        const c = row * cStride + (pos[x] + j) * cStep;
        su += data[uOff + c] * t;
        sv += data[vOff + c] * t;
      }
      u[x] = Math.min(su >> 7, 32767);
      v[x] = Math.min(sv >> 7, 32767);
    }
    scaled = { u, v };
    if (this.uRows.size > 8) this.uRows.clear();
    this.uRows.set(row, scaled);
    return scaled;
  }

  routeC(p, y0, count, luma) {
    const { data, yOff, yStride } = p;
    const { yCoeff, yOffset, v2r, v2g, u2g, u2b } = this.terms.full;
    const { pos, taps, size } = this.rowFilter;
    const width = this.width;
    const u = new Float64Array(width), v = new Float64Array(width);
    // av_clip_uintp2(x, 30) of the int32 sum (unsigned arithmetic in C: it wraps), then >> 22.
    const out = (s) => {
      const w = s | 0;
      return (w & 0xc0000000 ? (w < 0 ? 0 : 0x3fffffff) : w) >> 22;
    };
    let d = 0;
    for (let y = y0; y < y0 + count; y++) {
      u.fill(-(128 << 19));
      v.fill(-(128 << 19));
      for (let j = 0; j < size; j++) {
        const t = taps[y * size + j];
        if (!t) continue;
        const c = this.chromaRow(p, pos[y] + j);
        for (let x = 0; x < width; x++) { u[x] += c.u[x] * t; v[x] += c.v[x] * t; }
      }
      const yRow = yOff + y * yStride;
      for (let x = 0; x < width; x++) {
        const U = Math.floor(u[x] / 1024), V = Math.floor(v[x] / 1024);
        const Y = ((data[yRow + x] << 9) - yOffset) * yCoeff + (1 << 21);
        luma[d++] = out(Y + V * v2r) * 0.299 + out(Y + V * v2g + U * u2g) * 0.587 + out(Y + U * u2b) * 0.114;
      }
    }
  }
}
