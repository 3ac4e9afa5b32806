// Hasher check page: hash the chosen files in this browser and show the results. Sends nothing.
import { hashFile } from "./hasher.js";

const input = document.getElementById("check-files");
const status = document.getElementById("check-status");
const table = document.getElementById("check-results");
const body = table.querySelector("tbody");

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
      cell(row, result.warning || "", "note");
      row.dataset.state = "done";
    } catch (error) {
      for (const field of ["kind", "pdq", "pdqQuality", "phash", "md5"]) cell(row, null, field);
      cell(row, error.message, "note");
      row.dataset.state = "error";
    }
  }
  status.textContent = `Done: ${files.length} file${files.length === 1 ? "" : "s"} hashed on this device.`;
  document.body.dataset.checkState = "done";
});
