// Video fingerprints (vPDQ) in the hashing worker, by the rule of the Python reference (hashing/video.py) and of
// Meta's vpdq: frames are decoded in order and counted in presentation order; frame n (from 0) is hashed when
// n % max(1, int(fps)) == 0, fps being the stream's average frame rate as FFmpeg reports it; each hashed frame is
// converted to RGB at its native size as FFmpeg's swscale does (swscale.js) and hashed with PDQ.
// The file is demuxed by mediabunny, read from the File in slices (never whole), and decoded by WebCodecs; every
// decoded frame is released as soon as it is counted or hashed, so memory stays bounded for any length.

import { ALL_FORMATS, BlobSource, EncodedPacketSink, Input } from "../vendor/mediabunny/mediabunny.min.mjs";
import { PdqDownsampler, pdqFrom64 } from "./pdq.js";
import { canConvert, FrameConverter } from "./swscale.js";

const SECONDS_PER_HASH = 1;
const MIN_DIM = 5;              // PDQ's smallest side; vpdq refuses smaller frames
// Frames hashed at most (hashing.signal_types.VPDQ_MAX_FRAMES: two hours at one a second, the most the server
// accepts); a longer video keeps its MD5, as in the reference (a truncated vPDQ would not match the whole video).
const MAX_FRAMES = 7200;
const STRIP_ROWS = 32;          // luminance rows handed to PDQ at a time (even: chroma rows serve two)
const MAX_QUEUED_CHUNKS = 16;   // encoded chunks waiting in the decoder
const MAX_HELD_FRAMES = 4;      // decoded frames waiting to be hashed (each holds its decoder buffer)

// A video this browser cannot fingerprint faithfully: the caller is told, and the MD5 alone is still usable.
// Its `code` (and `values`) let a page show it in the caller's language (cases/caller_views.py caller_texts,
// video_warnings); the message is the English.
export class VideoWarning extends Error {
  constructor(message, code, values = {}) {
    super(message);
    this.code = code;
    this.values = values;
  }
}

const CODEC_NAMES = { avc: "H.264", hevc: "HEVC (H.265)", vp8: "VP8", vp9: "VP9", av1: "AV1" };
const J_FORMAT_CODECS = new Set(["avc", "hevc"]);

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

const isMp4 = (name) => /mp4|quicktime/i.test(name || "");
const isMatroska = (name) => /matroska|webm/i.test(name || "");

// The stream's average frame rate as FFmpeg gives it (AVStream.avg_frame_rate): for MP4/MOV, the sample table's
// frames over the sum of its decoding-time deltas (mov.c: time_scale * nb_frames_for_fps / duration_for_fps; not
// the presentation span, which differs for a variable-rate video with B-frames); for Matroska/WebM,
// 1 / DefaultDuration when the track states it; otherwise (MPEG-TS, fragmented MP4, no DefaultDuration) the rate
// over the packets, rounded to a standard rate within 1 % as FFmpeg's estimate is. mediabunny (pinned) keeps the
// sample table and DefaultDuration on its internal track, which its public API does not expose.
async function averageFrameRate(input, track, stats) {
  const format = (await input.getFormat()).name;
  const internal = (track._backing && track._backing.internalTrack) || {};
  if (isMp4(format)) {
    const entries = (internal.sampleTable && internal.sampleTable.sampleTimingEntries) || [];
    let frames = 0, duration = 0;
    for (const { count, delta } of entries) {
      frames += count;
      duration += count * delta;
    }
    return frames && duration > 0 && internal.timescale ? (frames * internal.timescale) / duration
      : stats.averagePacketRate;
  }
  if (isMatroska(format) && internal.defaultDurationNs) return 1e9 / internal.defaultDurationNs;
  return snapToStandard(stats.averagePacketRate);
}

// Where the samples of a frame copied by VideoFrame.copyTo lie (swscale.js converts the 8-bit layouts).
function planeLayout(format, layout, data) {
  const [yp, up, vp] = layout;
  if (format === "NV12") {
    return { data, yOff: yp.offset, yStride: yp.stride, uOff: up.offset, vOff: up.offset + 1, cStride: up.stride,
      cStep: 2 };
  }
  return { data, yOff: yp.offset, yStride: yp.stride, uOff: up.offset, vOff: vp.offset, cStride: up.stride,
    cStep: 1 };
}

// PDQ hash and quality of one decoded frame, at its native (visible) size.
async function hashFrame(frame, scratch) {
  const width = frame.visibleRect ? frame.visibleRect.width : frame.codedWidth;
  const height = frame.visibleRect ? frame.visibleRect.height : frame.codedHeight;
  if (width < MIN_DIM || height < MIN_DIM) {
    throw new VideoWarning("This video's picture is too small to fingerprint, so only its exact fingerprint " +
      "(MD5) was made.", "video_small");
  }
  if (!canConvert(frame.format)) {
    const format = frame.format || "?";
    throw new VideoWarning("This video is stored in a way this browser cannot fingerprint faithfully " +
      `(${format}), so only its exact fingerprint (MD5) was made.`, "video_pixels", { format });
  }
  const size = frame.allocationSize();
  if (!scratch.data || scratch.data.length < size) scratch.data = new Uint8Array(size);
  const layout = await frame.copyTo(scratch.data);
  const planes = planeLayout(frame.format, layout, scratch.data);
  if (!scratch.luma || scratch.luma.length < width * STRIP_ROWS) scratch.luma = new Float32Array(width * STRIP_ROWS);
  // swscale in the vpdq package (no colour details set) reads full range only from the decoder's "J" pixel
  // formats, which FFmpeg's H.264 and HEVC decoders give for full-range 8-bit video; a VP9 or AV1 frame tagged
  // full range is still read as limited.
  const fullRange = Boolean(frame.colorSpace && frame.colorSpace.fullRange && J_FORMAT_CODECS.has(scratch.codec));
  const key = `${frame.format} ${width}x${height} ${fullRange}`;
  if (!scratch.converter || scratch.key !== key) {
    scratch.converter = new FrameConverter(frame.format, width, height, fullRange);
    scratch.key = key;
  }
  const pdq = new PdqDownsampler(height, width);
  for (let y0 = 0; y0 < height; y0 += STRIP_ROWS) {
    const count = Math.min(STRIP_ROWS, height - y0);
    scratch.converter.lumaRows(planes, y0, count, scratch.luma);
    pdq.addRows(scratch.luma, 0, count);
  }
  return pdqFrom64(pdq.finish());
}

// n / fps as vpdq's C++ computes it: float / float.
export function frameTimestamp(n, fps) {
  return Math.fround(Math.fround(n) / Math.fround(fps));
}

// Python's format(x, ".3") for a finite x >= 0, which python-threatexchange's VpdqCompactFeature writes: three
// significant digits, rounded half to even on the exact binary value; scientific notation ("1.23e+02") when the
// rounded exponent is below -4 or at least 2, otherwise fixed with trailing zeros dropped but one decimal kept.
export function pythonFloat3(x) {
  if (x === 0) return "0.0";
  let [digits, exp] = x.toExponential(2).split("e");
  digits = digits.replace(".", "");
  let e = Number(exp);
  // toExponential rounds an exact tie up; Python rounds it to even. A tie is a 4-digit decimal ending in 5 that
  // equals x exactly: x must be the double nearest to it, and it must be a dyadic rational (5^-k divides M).
  const [d4, e4] = x.toExponential(3).split("e");
  const m4 = Number(d4.replace(".", "")), k = Number(e4) - 3;
  if (m4 % 10 === 5 && Number(x.toExponential(3)) === x && (k >= 0 || m4 % 5 ** -k === 0)) {
    let m3 = Math.floor(m4 / 10);
    if (m3 % 2) m3 += 1;
    e = Number(e4);
    if (m3 === 1000) { m3 = 100; e += 1; }
    digits = String(m3);
  }
  if (e < -4 || e >= 2) {
    const mantissa = (digits[0] + "." + digits.slice(1)).replace(/\.?0+$/, "");
    return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  const whole = e >= 0 ? digits.slice(0, e + 1) : "0";
  const fraction = (e >= 0 ? digits.slice(e + 1) : "0".repeat(-e - 1) + digits).replace(/0+$/, "") || "0";
  return `${whole}.${fraction}`;
}

// The exchange's string for one hashed frame, "pdqHex,quality,timestamp", as python-threatexchange writes it.
function featureString(pdq, quality, timestamp) {
  return `${pdq},${quality},${pythonFloat3(timestamp)}`;
}

// The JSON array as Python's json.dumps writes it (", " between items), so that both sides give the same bytes.
function signalString(features) {
  return `[${features.map((f) => JSON.stringify(f)).join(", ")}]`;
}

// {vpdq, frames}: the JSON array python-threatexchange's VPDQSignal exchanges, and how many frames were hashed.
// Throws VideoWarning when this browser cannot read or decode the video (said plainly; never a wrong hash).
export async function vpdqFromBlob(blob, progress) {
  if (typeof VideoDecoder === "undefined") {
    throw new VideoWarning("This browser cannot decode videos here, so only the video's exact fingerprint (MD5) " +
      "was made. An up-to-date Chrome, Edge, Firefox or Safari can make a full fingerprint.", "video_browser");
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
      "(MD5) was made. Saving it as MP4 or WebM may allow a full fingerprint.", "video_format");
  }
  const codec = CODEC_NAMES[track.codec] || track.codec || "unknown";
  const cannotDecode = () => new VideoWarning(`This browser cannot decode this video (${codec}), so only its ` +
    "exact fingerprint (MD5) was made. Another browser, or a copy saved as H.264 MP4, may allow a full fingerprint.",
    "video_codec", { codec });
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
      "was made.", "video_empty");
  }
  // int(seconds_per_hash * fps), after removing the last-digit noise of a rate computed in floating point.
  const step = Math.max(1, Math.trunc(Number((SECONDS_PER_HASH * fps).toPrecision(12))));
  const expected = stats.packetCount;
  const hours = (MAX_FRAMES * SECONDS_PER_HASH) / 3600;
  const tooLong = () => new VideoWarning(`This video is too long to fingerprint here (more than ${hours} hours), ` +
    "so only its exact fingerprint (MD5) was made. Shorter parts of it can be added as well.", "video_too_long",
    { hours });
  if (Math.ceil(expected / step) > MAX_FRAMES) throw tooLong();

  const features = [];
  const held = [];       // [frameNumber, VideoFrame] waiting to be hashed
  const scratch = { codec: track.codec };
  const beforeEdit = isMp4((await input.getFormat()).name);
  let decoded = 0, failure = null, wake = null;
  const notify = () => { if (wake) { const w = wake; wake = null; w(); } };
  const decoder = new VideoDecoder({
    output: (frame) => {
      // FFmpeg drops the frames before an MP4 edit list's start (a stream-copied cut); mediabunny gives them
      // negative times. They are not counted, as the reference does not see them.
      if (beforeEdit && frame.timestamp < 0) {
        frame.close();
        notify();
        return;
      }
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
        if (features.length === MAX_FRAMES) throw tooLong();
        const { pdq, pdqQuality } = await hashFrame(frame, scratch);
        features.push(featureString(pdq, pdqQuality, frameTimestamp(n, fps)));
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
      "damaged), so only its exact fingerprint (MD5) was made.", "video_damaged", { codec });
  }
  progress("video", expected, expected);
  return { vpdq: signalString(features), frames: features.length };
}
