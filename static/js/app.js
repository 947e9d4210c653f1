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

// Focus after an htmx swap. A swap that replaces the element holding keyboard focus
// drops focus to <body>: a keyboard or screen-reader user is thrown back to the top of
// the page. htmx puts focus back only on an element with the same id, and [autofocus]
// in new content wins; for the rest, land on the closest thing to where the user was.
// Swaps the user did not cause (polling, load triggers, out-of-band parts) may only
// give back the same element: they never move focus anywhere new.
(() => {
  const FOCUSABLE =
    'a[href], button:not([disabled]), input:not([type="hidden"]):not([disabled]), ' +
    'select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
  const HEADING = "h1, h2, h3, h4, h5, h6";
  const before = new WeakMap(); // request -> where focus was when its swap began

  const lost = () => {
    const active = document.activeElement;
    return !active || active === document.body || !active.isConnected;
  };
  // A control without an id is found again by its name, and its value where the value
  // is what tells it apart (the builder's "+ Field criterion" buttons, checkboxes); a
  // link by where it goes.
  const keyOf = (element) => {
    const href = element.tagName === "A" && element.getAttribute("href");
    if (href) return `a[href="${CSS.escape(href)}"]`;
    const name = element.getAttribute?.("name");
    if (!name) return "";
    const tag = element.tagName.toLowerCase();
    const byValue = tag === "button" || element.type === "checkbox" || element.type === "radio";
    const value = byValue ? `[value="${CSS.escape(element.getAttribute("value") ?? "")}"]` : "";
    return `${tag}[name="${CSS.escape(name)}"]${value}`;
  };
  const put = (element) => {
    if (!element) return false;
    if (!element.matches(FOCUSABLE) && !element.hasAttribute("tabindex")) element.tabIndex = -1;
    element.focus();
    return document.activeElement === element;
  };
  const visible = (element) => !element.closest(".visually-hidden, [hidden]");

  document.addEventListener("htmx:beforeSwap", (event) => {
    const target = event.detail.target;
    const active = document.activeElement;
    if (!target || !active || active === document.body || !target.contains(active)) return;
    const cause = event.detail.requestConfig?.triggeringEvent;
    const ancestors = [];
    for (let node = active.parentElement; node && node !== target; node = node.parentElement) {
      if (node.id) ancestors.push(node.id);
    }
    before.set(event.detail.xhr, {
      id: active.id,
      key: keyOf(active),
      ancestors,
      targetId: target.id,
      // Keys, clicks and form changes are trusted events; polling and "load" have none.
      byUser: Boolean(cause?.isTrusted),
    });
  });

  document.addEventListener("htmx:afterSettle", (event) => {
    const was = before.get(event.detail.xhr);
    if (!was) return;
    before.delete(event.detail.xhr);
    if (!lost()) return; // htmx, [autofocus] or the verdict cards placed it already
    const root =
      (was.targetId && document.getElementById(was.targetId)) ||
      (event.detail.target?.isConnected ? event.detail.target : event.target);
    if (!root?.isConnected) return;
    const same =
      (was.id && document.getElementById(was.id)) || (was.key && root.querySelector(was.key));
    if (same && visible(same) && put(same)) return;
    if (!was.byUser) return;
    // The form came back with an error: start at the field that has it.
    if (put(root.querySelector('[aria-invalid="true"]'))) return;
    // The element went away (a removed criterion): the closest container that is still
    // there, at its first control.
    for (const id of was.ancestors) {
      const container = document.getElementById(id);
      if (container && root.contains(container)) {
        const inside = Array.from(container.querySelectorAll(FOCUSABLE)).find(visible);
        if (put(inside ?? container)) return;
      }
    }
    const heading = Array.from(root.querySelectorAll(HEADING)).find(visible);
    const control = Array.from(root.querySelectorAll(FOCUSABLE)).find(visible);
    put(heading) || put(control) || put(root);
  });
})();
