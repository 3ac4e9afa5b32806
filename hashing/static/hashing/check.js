// Hasher check page: hash the chosen files in this browser and show the results. Sends nothing.
import { hashFile } from "./hasher.js";

const input = document.getElementById("check-files");
const status = document.getElementById("check-status");
const table = document.getElementById("check-results");
const body = table.querySelector("tbody");
const compare = document.getElementById("check-compare");
const matchDistance = Number(compare.dataset.pdqMatchDistance);
const FIELDS = { 64: ["pdq", "PDQ"], 16: ["phash", "pHash"], 32: ["md5", "MD5"] };

function bitsApart(a, b) {
  let bits = 0;
  for (let i = 0; i < a.length; i++) {
    let x = parseInt(a[i], 16) ^ parseInt(b[i], 16);
    for (; x; x >>= 1) bits += x & 1;
  }
  return bits;
}

// How far each row's hash is from the value the partner pasted (read from the table, never sent).
function showComparisons() {
  const value = compare.value.trim().toLowerCase().replace(/^0x/, "");
  const known = /^[0-9a-f]+$/.test(value) ? FIELDS[value.length] : undefined;
  for (const row of body.rows) {
    const target = row.querySelector("[data-field=compare]");
    if (!target) continue;
    if (!value) { target.textContent = ""; continue; }
    if (!known) { target.textContent = "Not a PDQ, pHash or MD5 value"; continue; }
    const [field, label] = known;
    const ours = row.dataset[field];
    if (!ours) { target.textContent = `No ${label} for this file`; continue; }
    const bits = bitsApart(ours, value);
    if (field === "md5") target.textContent = bits === 0 ? "MD5 identical" : "MD5 different";
    else if (bits === 0) target.textContent = `${label} identical`;
    else {
      const verdict = field === "pdq" ? (bits <= matchDistance ? " (a match)" : " (no match)") : "";
      target.textContent = `${label} ${bits} bit${bits === 1 ? "" : "s"} apart${verdict}`;
    }
  }
}
compare.addEventListener("input", showComparisons);

function cell(row, text, field) {
  const td = row.insertCell();
  td.textContent = text ?? "—";
  if (field) td.dataset.field = field;
  return td;
}

input.addEventListener("change", async () => {
  const files = Array.from(input.files);
  body.replaceChildren();
  table.hidden = files.length === 0;
  document.body.dataset.checkState = "hashing";
  // File names stay on this page (they are the caller's own); they are never sent anywhere.
  for (const [index, file] of files.entries()) {
    const row = body.insertRow();
    row.dataset.index = String(index);
    cell(row, String(index + 1));
    row.title = file.name;
    status.textContent = `Hashing file ${index + 1} of ${files.length}…`;
    try {
      const result = await hashFile(file, {
        onProgress: ({ phase, done, total }) => {
          const percent = total ? Math.round((100 * done) / total) : 0;
          status.textContent = `Hashing file ${index + 1} of ${files.length}: ${phase} ${percent}%`;
        },
      });
      cell(row, result.kind, "kind");
      cell(row, result.pdq, "pdq").classList.add("hash");
      cell(row, result.pdqQuality == null ? null : String(result.pdqQuality), "pdqQuality");
      cell(row, result.phash, "phash").classList.add("hash");
      cell(row, result.md5, "md5").classList.add("hash");
      Object.assign(row.dataset, { pdq: result.pdq || "", phash: result.phash || "", md5: result.md5 });
      cell(row, "", "compare");
      // A video's vPDQ is one PDQ per second of video: its frame count here, the value itself in data-vpdq.
      const note = result.warning || (result.vpdq ? `vPDQ of ${result.frames} frame${result.frames === 1 ? "" : "s"}`
        : "");
      cell(row, note, "note");
      if (result.vpdq) row.dataset.vpdq = result.vpdq;
      row.dataset.state = "done";
    } catch (error) {
      for (const field of ["kind", "pdq", "pdqQuality", "phash", "md5", "compare"]) cell(row, null, field);
      cell(row, error.message, "note");
      row.dataset.state = "error";
    }
  }
  showComparisons();
  status.textContent = `Done: ${files.length} file${files.length === 1 ? "" : "s"} hashed on this device.`;
  document.body.dataset.checkState = "done";
});
