// deid steward UI: small progressive enhancements; every page works without this file.
"use strict";

// Treatment forms: show only the parameter fieldset of the chosen treatment.
function syncTreatment(form) {
  const choice = form.querySelector("select.treatment-choice");
  if (!choice) return;
  form.querySelectorAll("fieldset.params").forEach((fieldset) => {
    const active = fieldset.dataset.treatment === choice.value;
    fieldset.classList.toggle("hidden", !active);
    fieldset.disabled = !active;
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form.treatment-form").forEach((form) => {
    syncTreatment(form);
    form.querySelector("select.treatment-choice").addEventListener("change", () => syncTreatment(form));
  });
  // Ask before the one action that changes what workers run.
  const publish = document.querySelector("form#publish");
  if (publish) {
    publish.addEventListener("submit", (event) => {
      if (!window.confirm("Publish the draft as the next policy version? Running workers will pick it up.")) {
        event.preventDefault();
      }
    });
  }
  // Rejecting a tag sets the field to NON_PII and its treatment to keep: say so.
  document.querySelectorAll("button[value=reject]").forEach((button) => {
    button.addEventListener("click", (event) => {
      if (!window.confirm("Not personal data: tag NON_PII and keep the field unchanged?")) event.preventDefault();
    });
  });
});
