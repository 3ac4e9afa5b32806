// Quick exit on every caller page: forget this visit (an unlocked case), then leave for an everyday site,
// replacing this page in the history. The button, or Esc pressed three times in a row (or Shift, as on GOV.UK's
// "Exit this page"), each press within 5 seconds of the first.
const PRESSES = 3;
const WITHIN_MS = 5000;

function leave() {
  const link = document.getElementById("quick-exit");
  document.body.hidden = true;
  if (navigator.sendBeacon) navigator.sendBeacon(link.dataset.leave);
  window.location.replace(link.href);
}

// On the document, not the button: one_entry.js may put a new page body, button included, in place.
document.addEventListener("click", (event) => {
  if (event.target.closest("#quick-exit")) {
    event.preventDefault();
    leave();
  }
});

let key = "";
let presses = 0;
let first = 0;
document.addEventListener("keydown", (event) => {
  if (event.repeat) return; // a key held down is one press
  if (event.key !== "Escape" && event.key !== "Shift") {
    presses = 0; // typing (a capital letter is Shift, then the letter) starts the count again
    return;
  }
  if (event.key !== key || event.timeStamp - first > WITHIN_MS) {
    key = event.key;
    presses = 0;
    first = event.timeStamp;
  }
  presses += 1;
  if (presses >= PRESSES) leave();
});
