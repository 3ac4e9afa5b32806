// Quick exit on every caller page: forget this visit (an unlocked case), then leave for an everyday site,
// replacing this page in the history.
const link = document.getElementById("quick-exit");
if (link) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    document.body.hidden = true;
    if (navigator.sendBeacon) navigator.sendBeacon(link.dataset.leave);
    window.location.replace(link.href);
  });
}
