// The case page's live view: counts of items as the caller's hashes arrive, and the case's status.
// Polls a small JSON endpoint; the portal does not count these requests as activity or as page views.
const root = document.getElementById("case");
const INTERVAL = 1500;

function show(state) {
  for (const [kind, count] of Object.entries(state.counts)) {
    const cell = root.querySelector(`[data-count="${kind}"]`);
    if (cell) cell.textContent = String(count);
  }
  root.querySelector('[data-count="low_quality"]').textContent = String(state.low_quality);
  root.querySelector('[data-count="unreadable"]').textContent = String(state.unreadable);
  root.querySelector('[data-count="vpdq"]').textContent = String(state.vpdq);
  root.querySelector('[data-field="status"]').textContent = state.status_label;
  for (const link of state.links) {
    const cell = root.querySelector(`[data-link-state="${link.id}"]`);
    if (cell) cell.textContent = link.state;
  }
  const banner = document.getElementById("withdrawn-banner");
  banner.hidden = state.status !== "withdrawn";
}

let last = "";
async function poll() {
  try {
    const response = await fetch(root.dataset.liveUrl, { credentials: "same-origin", redirect: "manual" });
    if (response.ok) {
      const text = await response.text();
      if (text !== last) {
        last = text;
        const state = JSON.parse(text);
        show(state);
        document.getElementById("live-status").textContent =
          `${state.items.length} item${state.items.length === 1 ? "" : "s"} received.`;
      }
    } else {
      document.getElementById("live-status").textContent = "Live updates stopped: reload the page (you may need to sign in again).";
      return;
    }
  } catch {
    // A network blip: try again on the next tick.
  }
  setTimeout(poll, INTERVAL);
}
setTimeout(poll, INTERVAL);
