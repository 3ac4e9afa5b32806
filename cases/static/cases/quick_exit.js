// Quick exit on every caller page: leave for an everyday site and replace this page in the history.
const link = document.getElementById("quick-exit");
if (link) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    document.body.hidden = true;
    window.location.replace(link.href);
  });
}
