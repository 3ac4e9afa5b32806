// Video fingerprints (vPDQ) in the hashing worker, by the rule of the Python reference (hashing/video.py) and of
// Meta's vpdq: frames are decoded in order and counted in presentation order; frame n (from 0) is hashed when
// n % max(1, int(fps)) == 0, fps being the stream's average frame rate as FFmpeg reports it; each hashed frame is
// converted to RGB at its native size as FFmpeg's swscale does (BT.601, limited range) and hashed with PDQ.
// The file is demuxed by mediabunny, read from the File in slices (never whole), and decoded by WebCodecs; every
// decoded frame is released as soon as it is counted or hashed, so memory stays bounded for any length.

import { ALL_FORMATS, BlobSource, EncodedPacketSink, Input } from "../vendor/mediabunny/mediabunny.min.mjs";
import { PdqDownsampler, pdqFrom64 } from "./pdq.js";

const SECONDS_PER_HASH = 1;
const MIN_DIM = 5;              // PDQ's smallest side; vpdq refuses smaller frames
const STRIP_ROWS = 32;          // luminance rows handed to PDQ at a time (even: chroma rows serve two)
const MAX_QUEUED_CHUNKS = 16;   // encoded chunks waiting in the decoder
const MAX_HELD_FRAMES = 4;      // decoded frames waiting to be hashed (each holds its decoder buffer)

// A video this browser cannot fingerprint faithfully: the caller is told, and the MD5 alone is still usable.
export class VideoWarning extends Error {}

const CODEC_NAMES = { avc: "H.264", hevc: "HEVC (H.265)", vp8: "VP8", vp9: "VP9", av1: "AV1" };

// FFmpeg's "standard" frame rates (libavformat get_std_framerate): an estimated rate within 1 % of one of these is
// taken to be it, as avformat_find_stream_info does when the container states no rate.
const STD_RATES = (() => {
  const rates = [];
  for (let i = 0; i < 30 * 12; i++) rates.push((i + 1) / 12);    // 1/12 fps steps up to 30
  for (let i = 31; i <= 60; i++) rates.push(i);
  rates.push(80, 120, 240);
  for (const r of [24, 30, 60, 12, 15, 48]) rates.push((r * 1000) / 1001);
  return rates;
})();

function snapToStandard(rate) {
  let best = 0, bestError = 0.01;
  for (const std of STD_RATES) {
    const error = Math.abs(rate / std - 1);
    if (error < bestError) { bestError = error; best = std; }
  }
  return best || rate;
}

// The stream's average frame rate as FFmpeg gives it (AVStream.avg_frame_rate): for MP4/MOV, frames over the
// track's total duration (its sample table); for Matroska/WebM, 1 / DefaultDuration when the track states it,
// else the rate measured over the packets, rounded to a standard rate within 1 % as FFmpeg does.
async function averageFrameRate(input, track, stats) {
  const format = await input.getFormat();
  const backing = track._backing && track._backing.internalTrack; // mediabunny (pinned) keeps Matroska's field
  if (format.name && /matroska|webm/i.test(format.name) && backing && backing.defaultDurationNs) {
    return 1e9 / backing.defaultDurationNs;
  }
  const rate = stats.averagePacketRate;
  if (format.name && /matroska|webm/i.test(format.name)) return snapToStandard(rate);
  return rate;
}

// FFmpeg's swscale turns 4:2:0 YUV (limited range) into RGB24 with BT.601 coefficients in 16-bit fixed point
// (libswscale/x86/yuv_2_rgb.asm with the coefficients of yuv2rgb.c's ff_yuv2rgb_c_init_tables, contrast and
// saturation at their defaults): each of R, G, B is a clamped sum of a term of Y and terms of U and V, so the
// terms are tabled here. pmulhw(a, b) is (a * b) >> 16.
const Y_TERM = new Int32Array(256), R_V = new Int32Array(256), G_U = new Int32Array(256);
const G_V = new Int32Array(256), B_U = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  Y_TERM[i] = ((i * 8 - 128) * 9539) >> 16;
  const c = i * 8 - 1024;
  R_V[i] = (c * 13075) >> 16;
  G_U[i] = (c * -3209) >> 16;
  G_V[i] = (c * -6660) >> 16;
  B_U[i] = (c * 16525) >> 16;
}
const clamp = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);

// PDQ luminance (as pdq.js lumaFromRGBA: float64, one rounding to float32 by the store) of rows [y0, y0 + count)
// of a decoded frame, written to luma from index 0. `planes` describes where Y, U and V samples lie.
function lumaRows(p, width, y0, count, luma) {
  const { data, yOff, yStride, uOff, vOff, cStride, cStep, cShiftX, cShiftY } = p;
  let d = 0;
  for (let y = y0; y < y0 + count; y++) {
    const yRow = yOff + y * yStride;
    const cRow = (y >> cShiftY) * cStride;
    for (let x = 0; x < width; x++) {
      const c = cRow + (x >> cShiftX) * cStep;
      const yt = Y_TERM[data[yRow + x]], u = data[uOff + c], v = data[vOff + c];
      const r = clamp(yt + R_V[v]), g = clamp(yt + G_U[u] + G_V[v]), b = clamp(yt + B_U[u]);
      luma[d++] = r * 0.299 + g * 0.587 + b * 0.114;
    }
  }
}

// Where the samples of a frame copied by VideoFrame.copyTo lie, for the 8-bit formats handled here.
function planeLayout(format, layout, data) {
  const [yp, up, vp] = layout;
  switch (format) {
    case "I420": case "I420A":
      return { data, yOff: yp.offset, yStride: yp.stride, uOff: up.offset, vOff: vp.offset, cStride: up.stride,
        cStep: 1, cShiftX: 1, cShiftY: 1 };
    case "NV12":
      return { data, yOff: yp.offset, yStride: yp.stride, uOff: up.offset, vOff: up.offset + 1, cStride: up.stride,
        cStep: 2, cShiftX: 1, cShiftY: 1 };
    case "I422": case "I422A":
      return { data, yOff: yp.offset, yStride: yp.stride, uOff: up.offset, vOff: vp.offset, cStride: up.stride,
        cStep: 1, cShiftX: 1, cShiftY: 0 };
    case "I444": case "I444A":
      return { data, yOff: yp.offset, yStride: yp.stride, uOff: up.offset, vOff: vp.offset, cStride: up.stride,
        cStep: 1, cShiftX: 0, cShiftY: 0 };
    default:
      return null;
  }
}

// PDQ hash and quality of one decoded frame, at its native (visible) size.
async function hashFrame(frame, scratch) {
  const width = frame.visibleRect ? frame.visibleRect.width : frame.codedWidth;
  const height = frame.visibleRect ? frame.visibleRect.height : frame.codedHeight;
  if (width < MIN_DIM || height < MIN_DIM) {
    throw new VideoWarning("This video's picture is too small to fingerprint, so only its exact fingerprint " +
      "(MD5) was made.");
  }
  if (!planeLayout(frame.format, [{}, {}, {}], null)) {
    throw new VideoWarning("This video is stored in a way this browser cannot fingerprint faithfully " +
      `(${frame.format || "an unknown pixel format"}), so only its exact fingerprint (MD5) was made.`);
  }
  const size = frame.allocationSize();
  if (!scratch.data || scratch.data.length < size) scratch.data = new Uint8Array(size);
  const layout = await frame.copyTo(scratch.data);
  const planes = planeLayout(frame.format, layout, scratch.data);
  if (!scratch.luma || scratch.luma.length < width * STRIP_ROWS) scratch.luma = new Float32Array(width * STRIP_ROWS);
  const pdq = new PdqDownsampler(height, width);
  for (let y0 = 0; y0 < height; y0 += STRIP_ROWS) {
    const count = Math.min(STRIP_ROWS, height - y0);
    lumaRows(planes, width, y0, count, scratch.luma);
    pdq.addRows(scratch.luma, 0, count);
  }
  return pdqFrom64(pdq.finish());
}

// The exchange's string for one hashed frame: "pdqHex,quality,timestamp" (seconds, 3 decimals), as
// python-threatexchange's vpdq_to_json writes it.
function featureString(pdq, quality, timestamp) {
  return `${pdq},${quality},${timestamp.toFixed(3)}`;
}

// {vpdq, frames}: the JSON array python-threatexchange's VPDQSignal exchanges, and how many frames were hashed.
// Throws VideoWarning when this browser cannot read or decode the video (said plainly; never a wrong hash).
export async function vpdqFromBlob(blob, progress) {
  if (typeof VideoDecoder === "undefined") {
    throw new VideoWarning("This browser cannot decode videos here, so only the video's exact fingerprint (MD5) " +
      "was made. An up-to-date Chrome, Edge, Firefox or Safari can make a full fingerprint.");
  }
  const input = new Input({ source: new BlobSource(blob), formats: ALL_FORMATS });
  try {
    return await hashInput(input, progress);
  } finally {
    input.dispose();
  }
}

async function hashInput(input, progress) {
  let track;
  try {
    track = await input.getPrimaryVideoTrack();
  } catch (err) {
    if (err && ["NotReadableError", "NotFoundError"].includes(err.name)) throw err;
    track = undefined;
  }
  if (!track) {
    throw new VideoWarning("This browser cannot read this kind of video file, so only its exact fingerprint " +
      "(MD5) was made. Saving it as MP4 or WebM may allow a full fingerprint.");
  }
  const codec = CODEC_NAMES[track.codec] || track.codec || "unknown";
  const cannotDecode = () => new VideoWarning(`This browser cannot decode this video (${codec}), so only its ` +
    "exact fingerprint (MD5) was made. Another browser, or a copy saved as H.264 MP4, may allow a full fingerprint.");
  const config = await track.getDecoderConfig();
  if (!config) throw cannotDecode();
  let support;
  try {
    support = await VideoDecoder.isConfigSupported(config);
  } catch {
    support = { supported: false };
  }
  if (!support.supported) throw cannotDecode();

  const stats = await track.computePacketStats();
  const fps = await averageFrameRate(input, track, stats);
  if (!(fps > 0) || !stats.packetCount) {
    throw new VideoWarning("This video has no frames that could be read, so only its exact fingerprint (MD5) " +
      "was made.");
  }
  // int(seconds_per_hash * fps), after removing the last-digit noise of a rate computed in floating point.
  const step = Math.max(1, Math.trunc(Number((SECONDS_PER_HASH * fps).toPrecision(12))));
  const expected = stats.packetCount;

  const features = [];
  const held = [];       // [frameNumber, VideoFrame] waiting to be hashed
  const scratch = {};
  let decoded = 0, failure = null, wake = null;
  const notify = () => { if (wake) { const w = wake; wake = null; w(); } };
  const decoder = new VideoDecoder({
    output: (frame) => {
      const n = decoded++;
      if (n % step === 0 && !failure) held.push([n, frame]);
      else frame.close();
      notify();
    },
    error: (err) => { failure = err; notify(); },
  });
  const waitForDecoder = () => new Promise((resolve) => {
    wake = resolve;
    decoder.addEventListener("dequeue", notify, { once: true });
  });
  const hashHeld = async () => {
    while (held.length) {
      const [n, frame] = held.shift();
      try {
        const { pdq, pdqQuality } = await hashFrame(frame, scratch);
        features.push(featureString(pdq, pdqQuality, n / fps));
      } finally {
        frame.close();
      }
      progress("video", Math.min(decoded, expected), expected);
    }
  };
  try {
    decoder.configure(config);
    progress("video", 0, expected);
    const sink = new EncodedPacketSink(track);
    for await (const packet of sink.packets()) {
      if (failure) break;
      decoder.decode(packet.toEncodedVideoChunk());
      await hashHeld();
      while (!failure && (decoder.decodeQueueSize > MAX_QUEUED_CHUNKS || held.length >= MAX_HELD_FRAMES)) {
        if (held.length) await hashHeld();
        else await waitForDecoder();
      }
      progress("video", Math.min(decoded, expected), expected);
    }
    if (!failure) await decoder.flush();
    await hashHeld();
  } catch (err) {
    if (err instanceof VideoWarning || (err && ["NotReadableError", "NotFoundError"].includes(err.name))) throw err;
    failure = failure || err;
  } finally {
    for (const [, frame] of held) frame.close();
    held.length = 0;
    if (decoder.state !== "closed") decoder.close();
  }
  if (failure || !features.length) {
    throw new VideoWarning(`This video (${codec}) could not be decoded completely in this browser (it may be ` +
      "damaged), so only its exact fingerprint (MD5) was made.");
  }
  progress("video", expected, expected);
  return { vpdq: JSON.stringify(features), frames: features.length };
}
