// The caller pages leave at most one entry in the tab's history (docs/caller.md): a link within the site, or a
// form, replaces the page in the history instead of adding one, so after the quick exit Back shows the page the
// caller was on before this site. A form is posted here, by fetch: a redirect comes back as 204 with where to go
// (cases.caller.caller_page); any other answer (the form again with its errors, or a page of results) takes the
// place of this page's body. Without this script the pages work as plain links and forms.
const REPLACE_ENTRY = "X-Replace-Entry";

document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey
      || event.altKey) return;
  const link = event.target.closest("a[href]");
  if (!link || link.id === "quick-exit" || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin) return;
  if (url.hash && url.pathname === location.pathname && url.search === location.search) return; // in this page
  event.preventDefault();
  location.replace(url.href);
});

function show(html) {
  const next = new DOMParser().parseFromString(html, "text/html");
  document.title = next.title;
  document.documentElement.lang = next.documentElement.lang;
  const body = document.adoptNode(next.body);
  // Scripts parsed this way never run: fresh copies do (the page's own scripts; the shared ones run already).
  for (const parsed of body.querySelectorAll("script")) {
    const script = document.createElement("script");
    for (const { name, value } of parsed.attributes) script.setAttribute(name, value);
    script.textContent = parsed.textContent;
    parsed.replaceWith(script);
  }
  document.body.replaceWith(body);
  window.scrollTo(0, 0);
  // Where a page load would start reading: the error, else the heading.
  const start = body.querySelector("[role=alert]") || body.querySelector("h1");
  if (start) {
    if (!start.hasAttribute("tabindex")) start.setAttribute("tabindex", "-1");
    start.focus();
  }
}

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (event.defaultPrevented || form.method !== "post") return;
  event.preventDefault();
  if (form.dataset.sending) return; // one post at a time
  form.dataset.sending = "yes";
  let response;
  try {
    response = await fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form, event.submitter)),
      credentials: "same-origin",
      headers: { [REPLACE_ENTRY]: "1" },
    });
  } catch {
    // No answer: post it as the browser would (one more history entry, but the caller is not stuck).
    delete form.dataset.sending;
    HTMLFormElement.prototype.submit.call(form);
    return;
  }
  const next = response.headers.get(`${REPLACE_ENTRY}-Location`);
  if (next) location.replace(next);
  else show(await response.text());
});
