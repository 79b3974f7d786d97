// kb-triage console: the little behaviour the pages need. No inline script anywhere (the
// Content-Security-Policy forbids it); everything here is progressive: the forms work without it.
"use strict";

// A form sends once: a second click while the first is on its way does nothing (the idempotency
// key would make a repeat harmless anyway).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.sent === "yes") {
    event.preventDefault();
    return;
  }
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "yes";
  // Disabled only after the browser took the form's data: a button disabled now would drop the
  // name and value of the button that was pressed (Preview or Save, Set or Off).
  window.setTimeout(() => {
    for (const button of form.querySelectorAll("button[type=submit]")) button.disabled = true;
  }, 0);
});

// Keyboard shortcuts on a decision: the element with data-shortcut="x" takes the focus when x is
// pressed outside a text field.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return;
  const element = document.querySelector(`[data-shortcut="${CSS.escape(event.key)}"]`);
  if (!element) return;
  event.preventDefault();
  // Focus, never act: a stray key must not escalate a ticket. Enter (or Space) then does it.
  element.focus();
});

// The models page follows a training job live: its progress lines and status, until it ends.
const job = document.querySelector("[data-job-url]");
if (job) {
  const follow = async () => {
    const response = await fetch(job.dataset.jobUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) return;
    const state = await response.json();
    job.querySelector("[data-job-status]").textContent = state.status;
    const list = job.querySelector("[data-job-progress]");
    list.replaceChildren(...state.progress.map((line) => Object.assign(document.createElement("li"), { textContent: line })));
    if (state.status === "succeeded" || state.status === "failed") window.location.reload();
    else window.setTimeout(follow, 2000);
  };
  window.setTimeout(follow, 2000);
}
