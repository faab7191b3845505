/* Curation pages: keyboard shortcuts for the reading queue, "tick all", and the source form's
   fieldsets per kind. Everything here is an enhancement: every action is a plain form or link
   that works without JavaScript. No inline scripts (Content-Security-Policy). */
(function () {
  "use strict";

  const KEYS = {
    s: "shortlist",
    d: "discard",
    c: "compose",
  };
  let pendingFocusId = null;

  function items() {
    return Array.from(document.querySelectorAll("[data-queue] [data-item]"));
  }

  function currentItem() {
    const active = document.activeElement;
    const inside = active && active.closest ? active.closest("[data-item]") : null;
    return inside || document.querySelector("[data-item].is-current");
  }

  function focusItem(item) {
    if (!item) return;
    document.querySelectorAll("[data-item].is-current").forEach(function (other) {
      other.classList.remove("is-current");
    });
    item.classList.add("is-current");
    item.focus();
  }

  function move(step) {
    const all = items();
    if (all.length === 0) return;
    const index = all.indexOf(currentItem());
    const next = index === -1 ? (step > 0 ? 0 : all.length - 1) : index + step;
    focusItem(all[Math.max(0, Math.min(all.length - 1, next))]);
  }

  function isTyping(target) {
    if (!target || !target.closest) return false;
    // Ticking a checkbox or pressing a button is not typing; the shortcuts keep working there.
    const typing =
      "input:not([type='checkbox']):not([type='radio']):not([type='submit']):not([type='button']), " +
      "textarea, select, [contenteditable=''], [contenteditable='true']";
    return Boolean(target.closest(typing));
  }

  function openHelp() {
    const help = document.getElementById("shortcuts-help");
    if (help && !help.open) help.showModal();
  }

  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
    if (isTyping(event.target) || document.querySelector("dialog[open]")) return;
    if (!document.getElementById("shortcuts-help")) return;  // only the reading queue has shortcuts
    const item = currentItem();
    let handled = true;
    if (event.key === "j") {
      move(1);
    } else if (event.key === "k") {
      move(-1);
    } else if (event.key === "?") {
      openHelp();
    } else if (item && KEYS[event.key]) {
      const button = item.querySelector('[data-action="' + KEYS[event.key] + '"]');
      if (button) {
        pendingFocusId = item.id;
        button.click();
      }
    } else if (item && event.key === "o") {
      const link = item.querySelector("[data-open]");
      if (link) link.click();
    } else if (item && event.key === "x") {
      const box = item.querySelector("[data-select]");
      if (box) box.checked = !box.checked;
    } else {
      handled = false;
    }
    if (handled) event.preventDefault();
  }

  function showKindFieldsets(form) {
    const kind = form.querySelector("select[name='kind']");
    if (!kind) return;
    form.querySelectorAll("fieldset[data-kinds]").forEach(function (fieldset) {
      const kinds = fieldset.dataset.kinds.split(" ").filter(Boolean);
      fieldset.hidden = kinds.length > 0 && kinds.indexOf(kind.value) === -1;
    });
  }

  function enhance(root) {
    root.querySelectorAll("[data-select-all-label], [data-shortcuts-hint]").forEach(function (element) {
      element.hidden = false;
    });
    root.querySelectorAll("[data-source-form]").forEach(showKindFieldsets);
  }

  document.addEventListener("keydown", onKey);

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-shortcuts-open]")) openHelp();
  });

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches("[data-select-all]")) {
      document.querySelectorAll("[data-queue] [data-select]").forEach(function (box) {
        box.checked = target.checked;
      });
    } else if (target.matches("[data-source-form] select[name='kind']")) {
      showKindFieldsets(target.closest("[data-source-form]"));
    }
  });

  document.addEventListener("focusin", function (event) {
    const item = event.target.closest ? event.target.closest("[data-queue] [data-item]") : null;
    if (item) {
      document.querySelectorAll("[data-item].is-current").forEach(function (other) {
        if (other !== item) other.classList.remove("is-current");
      });
      item.classList.add("is-current");
    }
  });

  // A row replaced by htmx after s or d keeps the keyboard where it was.
  document.addEventListener("htmx:afterSettle", function () {
    if (!pendingFocusId) return;
    const item = document.getElementById(pendingFocusId);
    pendingFocusId = null;
    focusItem(item);
  });

  document.addEventListener("htmx:load", function (event) {
    enhance(event.detail.elt);
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      enhance(document);
    });
  } else {
    enhance(document);
  }
})();
