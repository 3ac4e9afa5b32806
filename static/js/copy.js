// Copy buttons for values a page shows once (a new API key, a webhook signing secret):
// <button data-copy="ID" hidden> copies the text of #ID, and its panel's [role=status] says so.
// The buttons stay hidden without this script: there is nothing they could do.
for (const button of document.querySelectorAll("button[data-copy]")) {
  const value = document.getElementById(button.dataset.copy);
  const status = button.closest(".panel")?.querySelector("[role=status]");
  const say = (text) => { if (status) status.textContent = text; };
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(value.textContent);
      say("Copied.");
    } catch {
      // No clipboard here (an insecure page, a refused permission): select it for the person to copy.
      window.getSelection().selectAllChildren(value);
      say("Selected: press Ctrl+C (or ⌘C) to copy.");
    }
  });
}
