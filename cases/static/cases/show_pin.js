// "Show PIN" on the status page: the PIN field is masked (someone may be looking), and the caller can unmask it
// to check what they typed. On the document, as one_entry.js may put a new form in place after a failure; the
// class on <html> shows the box only where this script runs (it does nothing without it).
document.documentElement.classList.add("can-show-pin");
document.addEventListener("change", (event) => {
  const box = event.target;
  if (box.id !== "show-pin") return;
  const field = document.getElementById(box.getAttribute("aria-controls"));
  if (field) field.type = box.checked ? "text" : "password";
});
