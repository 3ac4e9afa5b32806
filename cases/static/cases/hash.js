// The caller's hashing page: consent, choose files, hash them here, send the hashes only, show reference + PIN.
// File contents and names never leave this page; previews are object URLs of the caller's own files.
import { hashFile } from "../hashing/hasher.js";

const root = document.getElementById("hashing");
const texts = JSON.parse(document.getElementById("caller-texts").textContent);
const consentBoxes = Array.from(document.querySelectorAll("input[name=consent]"));
const input = document.getElementById("files");
const list = document.getElementById("file-list");
const send = document.getElementById("send");
const status = document.getElementById("files-status");
const overall = document.getElementById("overall");
const overallProgress = document.getElementById("overall-progress");
const filesWhy = document.getElementById("files-why");
const sendWhy = document.getElementById("send-why");
const otherFiles = document.getElementById("other-files");
const sendError = document.getElementById("send-error");
const maxItems = Number(root.dataset.maxItems);
const pdqMinQuality = Number(root.dataset.pdqMinQuality); // hashing.signal_types.PDQ_MIN_QUALITY: weaker is not shared
const csrfToken = document.querySelector("#csrf input[name=csrfmiddlewaretoken]").value;

// Names this submission, so a retry after a lost answer is recognised and never doubles anything.
const submissionId = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0"))
  .join("");
const entries = [];
let counter = 0;
let sending = false;
let done = false;

// Numbers in the page's language's own grouping ("20.000" in German), in the Western digits its text uses.
const numbers = new Intl.NumberFormat(document.documentElement.lang, { numberingSystem: "latn" });

function fmt(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_, key) => (typeof values[key] === "number" ? numbers.format(values[key])
    : String(values[key])));
}

// A count's message in the page's language (cases/caller_views.py plural(): gettext's forms, and which form
// each n takes; beyond the table, n % 100 decides, as in every shipped language's rule).
function counted(message, n, values) {
  const row = n < message.index.length ? n : 100 + (n % 100);
  return fmt(message.forms[message.index[row]], { count: n, ...values });
}

function live() {
  return entries.filter((entry) => !entry.removed);
}

// How far one file's fingerprinting is, honestly: the worker reports phases one after another (the MD5 over the
// bytes; for an image then decoding, PDQ, pHash; for a video then its frames), each from 0 to its total, so a
// phase's end is not the file's.
// Full only once the result is in.
function fraction(entry, { phase, done: finished, total }) {
  const part = total ? finished / total : 0;
  if (phase === "md5") return part * (entry.image ? 0.4 : entry.video ? 0.1 : 0.99);
  if (phase === "video") return 0.1 + 0.89 * part; // frames decoded of frames expected
  if (phase === "decode") return 0.4 + 0.55 * part;
  return phase === "pdq" ? 0.96 : 0.98;
}

// The whole choice: each file's share, a finished one (ready, or failed) counting whole.
function overallFraction() {
  const current = live();
  if (!current.length) return 0;
  return current.reduce((sum, entry) => sum + (entry.result || entry.error ? 1 : entry.progress), 0) / current.length;
}

function why(element, text) {
  element.textContent = text;
  element.hidden = !text;
}

function update() {
  const consented = consentBoxes.every((box) => box.checked);
  const current = live();
  const hashing = current.some((entry) => !entry.result && !entry.error);
  const ready = current.filter((entry) => entry.result);
  input.disabled = !consented || sending || done;
  send.disabled = !consented || hashing || sending || ready.length === 0 || current.length > maxItems;
  why(filesWhy, consented || done ? "" : filesWhy.dataset.text);
  let reason = "";
  if (!consented) reason = texts.why_consent;
  else if (current.length > maxItems) reason = fmt(texts.too_many, { limit: maxItems });
  else if (!current.length) reason = texts.why_no_files;
  else if (hashing) reason = texts.why_hashing;
  else if (!ready.length) reason = texts.why_none_ready;
  why(sendWhy, sending || done ? "" : reason);
  const others = current.filter((entry) => entry.result && entry.result.kind === "file").length;
  why(otherFiles, others === 0 ? "" : counted(texts.other_files, others));
  overall.hidden = !current.length;
  overallProgress.value = overallFraction();
  if (!sending) {
    status.textContent = current.length ? counted(texts.ready_of, current.length, { ready: ready.length }) : "";
  }
  document.body.dataset.state = done ? "done" : sending ? "sending" : hashing ? "hashing"
    : current.length ? "ready" : consented ? "choose" : "consent";
}

function preview(file, number) {
  const label = fmt(texts.preview, { number });
  let element;
  if (file.type.startsWith("video/")) {
    element = document.createElement("video");
    element.muted = true;
    element.preload = "metadata";
    element.setAttribute("aria-label", label);
  } else if (file.type.startsWith("image/")) {
    element = document.createElement("img");
    element.alt = label;
    element.addEventListener("error", () => { element.hidden = true; });
  } else {
    return null;
  }
  element.className = "thumb";
  return element;
}

function describe(entry) {
  const { result } = entry;
  const kind = texts[`kind_${result.kind}`] || result.kind;
  if (result.kind === "file") return { text: `${kind}: ${texts.other_file}`, warn: true };
  if (result.warning) {
    const warning = texts.warnings[result.warningCode] || (result.kind === "video" ? texts.warnings.video_failed : null);
    return { text: `${kind}: ${warning ? fmt(warning, result.warningValues || {}) : texts.unreadable}`, warn: true };
  }
  if (result.kind === "image" && result.pdqQuality < pdqMinQuality) {
    return { text: `${kind}: ${fmt(texts.low_quality, { quality: result.pdqQuality })}`, warn: true };
  }
  return { text: `${kind}: ${texts.ready}`, warn: false };
}

function addFile(file) {
  const number = ++counter;
  // The type the device gives is only a hint to weigh the progress; the kind comes from the file's bytes.
  const entry = { number, url: URL.createObjectURL(file), image: file.type.startsWith("image/"),
    video: file.type.startsWith("video/"), progress: 0 };
  entries.push(entry);
  const row = document.createElement("li");
  row.className = "file";
  row.dataset.number = String(number);
  const thumb = preview(file, number);
  if (thumb) {
    thumb.src = entry.url;
    row.append(thumb);
  }
  const details = document.createElement("div");
  const name = document.createElement("p");
  name.className = "file-name";
  name.textContent = file.name; // shown here only; never sent
  const progress = document.createElement("progress");
  progress.max = 1;
  progress.value = 0;
  progress.setAttribute("aria-label", fmt(texts.progress, { number }));
  const note = document.createElement("p");
  note.className = "file-note";
  note.textContent = texts.hashing;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "link remove";
  remove.textContent = texts.remove;
  remove.setAttribute("aria-label", `${texts.remove}: ${file.name}`);
  remove.addEventListener("click", () => {
    entry.removed = true;
    URL.revokeObjectURL(entry.url);
    row.remove();
    update();
    input.focus();
  });
  details.append(name, progress, note, remove);
  row.append(details);
  list.append(row);

  hashFile(file, {
    onProgress: (report) => {
      entry.progress = Math.max(entry.progress, fraction(entry, report));
      progress.value = entry.progress;
      overallProgress.value = overallFraction();
    },
  }).then((result) => {
    entry.result = result;
    progress.value = 1;
    const { text, warn } = describe(entry);
    note.textContent = text;
    note.classList.toggle("warn", warn);
  }, (error) => {
    entry.error = texts.errors[error.code] || texts.failed;
    note.textContent = entry.error === texts.failed ? texts.failed : `${texts.failed} ${entry.error}`;
    note.classList.add("error");
  }).finally(update);
}

function payloadItem({ result }) {
  // A video's vPDQ when the browser could decode its frames (else null: MD5 only, as the caller was told).
  if (result.kind === "video" && result.vpdq) return { kind: "video", md5: result.md5, vpdq: result.vpdq };
  if (result.kind !== "image") return { kind: result.kind, md5: result.md5 };
  if (result.warning || !result.pdq) return { kind: "image", md5: result.md5, unreadable: true };
  return { kind: "image", md5: result.md5, pdq: result.pdq, pdq_quality: result.pdqQuality, phash: result.phash };
}

async function post(body) {
  // Retried on a network failure only; the server recognises the same submission and never doubles it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await fetch(root.dataset.submitUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken },
        body,
      });
    } catch (error) {
      if (attempt === 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    }
  }
}

function finish(answer) {
  done = true;
  for (const entry of entries) URL.revokeObjectURL(entry.url);
  list.replaceChildren();
  // The page now says what happened, not what to do: the first heading is the done screen's.
  for (const id of ["intro", "step-consent", "step-files"]) document.getElementById(id).hidden = true;
  document.getElementById("done-reference").textContent = answer.reference;
  if (answer.pin) {
    document.getElementById("done-pin").textContent = answer.pin;
  } else {  // more files for a case that already has a PIN: the caller keeps theirs
    document.getElementById("done-pin-row").hidden = true;
    document.getElementById("done-added").textContent = texts.added;
  }
  document.getElementById("step-done").hidden = false;
  document.getElementById("done-heading").focus();
}

// Copy the reference or the PIN; where the browser refuses, select it so the caller can copy it by hand.
const copyStatus = document.getElementById("copy-status");
for (const button of document.querySelectorAll("button[data-copy]")) {
  button.addEventListener("click", async () => {
    const value = document.getElementById(button.dataset.copy);
    copyStatus.textContent = "";
    try {
      await navigator.clipboard.writeText(value.textContent);
      copyStatus.textContent = button.dataset.copied;
    } catch {
      window.getSelection().selectAllChildren(value);
      copyStatus.textContent = texts.copy_failed;
    }
  });
}

send.addEventListener("click", async () => {
  const items = live().filter((entry) => entry.result).map(payloadItem);
  sending = true;
  sendError.hidden = true;
  status.textContent = texts.sending;
  update();
  const body = JSON.stringify({
    submission_id: submissionId,
    consent: { version: root.dataset.consentVersion, confirmed: consentBoxes.map((box) => box.value) },
    items,
  });
  try {
    const response = await post(body);
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || texts.network);
    finish(answer);
  } catch (error) {
    sendError.textContent = error instanceof SyntaxError || error instanceof TypeError ? texts.network : error.message;
    sendError.hidden = false;
  } finally {
    sending = false;
    update();
  }
});

filesWhy.dataset.text = filesWhy.textContent;
for (const box of consentBoxes) box.addEventListener("change", update);
input.addEventListener("change", () => {
  for (const file of input.files) addFile(file);
  input.value = "";
  update();
});
update();
