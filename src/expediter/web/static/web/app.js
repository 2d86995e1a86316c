// Small progressive enhancements; every page also works without this file.
// (The Content-Security-Policy allows scripts from this origin only: no inline code.)
"use strict";

document.documentElement.classList.add("js");

// A select marked data-autosubmit sends its form as soon as it changes.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
    target.form.requestSubmit();
  }
});

// A form refused in place: bring its first error into view.
document.addEventListener("htmx:afterSwap", (event) => {
  const target = event.detail && event.detail.target;
  const firstError = target && target.querySelector ? target.querySelector(".errorlist") : null;
  if (firstError) {
    firstError.scrollIntoView({ block: "center" });
  }
});
