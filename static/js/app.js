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

// An htmx request that found the server or its database away (503, or no answer at
// all): nothing was saved. Say so where the page shows its messages, instead of nothing.
const sayUnavailable = () => {
  const main = document.getElementById("main");
  if (!main?.dataset.unavailable) return;
  let list = main.querySelector(":scope > .messages");
  if (!list) {
    list = document.createElement("ul");
    list.className = "messages";
    list.setAttribute("role", "status");
    main.prepend(list);
  }
  const item = document.createElement("li");
  item.className = "message error";
  item.textContent = main.dataset.unavailable;
  list.replaceChildren(item);
};
document.addEventListener("htmx:responseError", (event) => {
  if (event.detail.xhr.status === 503) sayUnavailable();
});
document.addEventListener("htmx:sendError", sayUnavailable);

// The feedback queue: triage by keyboard. j/k move between leads, g good lead, n then
// a digit "not a lead" with that reason, s skip, u undo, ? help. Forms stay plain
// forms (htmx posts them), so every key is also a button that works without script.
(() => {
  const cards = () => Array.from(document.querySelectorAll("[data-card]"));
  const current = () => document.activeElement?.closest?.("[data-card]") ?? null;
  const focusCard = (card) => {
    if (!card) return;
    card.focus();
    card.scrollIntoView({ block: "nearest" });
  };
  const step = (from, by) => {
    const list = cards();
    if (!list.length) return;
    const index = list.indexOf(from);
    const next = index === -1 ? 0 : Math.min(list.length - 1, Math.max(0, index + by));
    focusCard(list[next]);
  };
  let choosing = null; // the card waiting for a reason digit after "n"

  document.addEventListener("keydown", (event) => {
    if (!document.querySelector("[data-queue]")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest?.("input, textarea, select, [contenteditable], dialog")) return;
    const key = event.key;
    if (choosing) {
      const card = choosing;
      choosing = null;
      card.classList.remove("choosing");
      const option = /^[0-9]$/.test(key) ? card.querySelector(`option[data-digit="${key}"]`) : null;
      if (option) {
        const select = option.closest("select");
        select.value = option.value;
        select.form.requestSubmit();
      }
      event.preventDefault();
      return;
    }
    const card = current() ?? cards()[0];
    switch (key) {
      case "j":
      case "s":
        step(current(), 1);
        break;
      case "k":
        step(current(), -1);
        break;
      case "g":
        card?.querySelector('[data-key="g"]')?.click();
        break;
      case "n":
        if (!card) return;
        focusCard(card);
        card.classList.add("choosing");
        choosing = card;
        break;
      case "u":
        document.getElementById("undo-form")?.requestSubmit();
        break;
      case "?":
        document.getElementById("keys-help")?.showModal();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", (event) => {
    const skip = event.target.closest?.("[data-card] .skip");
    if (skip) step(skip.closest("[data-card]"), 1);
  });

  // A verdict replaced its card: go on to the next lead. Undo brings a card back (an
  // out-of-band swap): focus it.
  document.addEventListener("htmx:afterSettle", (event) => {
    const form = event.detail.requestConfig?.elt;
    if (!form?.matches?.("form[data-verdict]") || event.detail.xhr?.status !== 200) return;
    const card = document.getElementById(event.detail.target?.id ?? "");
    if (card) step(card, 1);
  });
  document.addEventListener("htmx:oobAfterSwap", (event) => {
    const card = event.detail.target;
    if (card?.matches?.("[data-card]")) focusCard(document.getElementById(card.id));
  });
})();

// A table wider than the screen scrolls inside its own region (see app.css): make that
// region reachable by keyboard and name it after its caption or section heading, so
// arrow keys scroll it. Re-checked on resize and after every htmx swap.
(() => {
  const SCROLLERS = ".table-scroll, .table, .builder-side, aside .panel";
  const nameOf = (region) => {
    const caption = region.querySelector("caption");
    if (caption?.textContent.trim()) return caption.textContent.trim();
    const labelled = region.closest("[aria-labelledby]");
    const heading = labelled && document.getElementById(labelled.getAttribute("aria-labelledby"));
    return heading?.textContent.trim() || "";
  };
  const reach = () => {
    for (const region of document.querySelectorAll(SCROLLERS)) {
      const scrolls =
        region.scrollWidth > region.clientWidth + 1 || region.scrollHeight > region.clientHeight + 1;
      const style = getComputedStyle(region);
      const scroller = /(auto|scroll)/.test(style.overflowX + style.overflowY);
      if (scrolls && scroller) {
        if (!region.hasAttribute("tabindex")) {
          region.tabIndex = 0;
          region.dataset.scrollRegion = "";
          // A table keeps its own role; a labelled section is already a named region.
          const named = region.tagName === "TABLE" || region.hasAttribute("aria-labelledby");
          const name = named ? "" : nameOf(region);
          if (name && !region.hasAttribute("role")) {
            region.setAttribute("role", "region");
            region.setAttribute("aria-label", name);
          }
        }
      } else if (region.dataset.scrollRegion !== undefined) {
        region.removeAttribute("tabindex");
        delete region.dataset.scrollRegion;
        if (region.getAttribute("role") === "region") {
          region.removeAttribute("role");
          region.removeAttribute("aria-label");
        }
      }
    }
  };
  document.addEventListener("DOMContentLoaded", reach);
  document.addEventListener("htmx:afterSettle", reach);
  let pending = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(reach);
  });
})();
