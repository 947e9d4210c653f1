// Lead Workshop's own small script. Pages work without it; it only smooths htmx use.
"use strict";

// Validation responses (400/409/422) carry the form with its errors: show them in place.
document.addEventListener("htmx:beforeSwap", (event) => {
  const status = event.detail.xhr.status;
  if (status === 400 || status === 409 || status === 422) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
