// Inbox: live reply length, canned replies, library answers and curated links, keyboard shortcuts,
// and a queue refresh that waits while the manager is typing. No inline script anywhere (Content-Security-Policy).
(function () {
  "use strict";

  var selected = -1;
  var segmenter = window.Intl && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;

  function length(text) {
    if (segmenter) {
      var count = 0;
      for (var _ of segmenter.segment(text)) { count += 1; }
      return count;
    }
    return Array.from(text).length;
  }

  function updateLength(textarea) {
    var counter = document.querySelector("[data-length-count]");
    if (!counter) { return; }
    var used = length(textarea.value);
    var limit = parseInt(textarea.getAttribute("data-max-length"), 10);
    counter.textContent = used;
    counter.classList.toggle("over-limit", used > limit);
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[data-row]")); }

  function select(index) {
    var all = rows();
    if (!all.length) { return; }
    selected = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (row, i) { row.classList.toggle("selected", i === selected); });
    all[selected].querySelector("[data-row-link]").focus();
  }

  function focus(selector) {
    var field = document.querySelector(selector);
    if (field) { field.focus(); return true; }
    return false;
  }

  function typing(target) {
    return target.closest("input, textarea, select, [contenteditable]") !== null;
  }

  // A library answer or a curated link goes in where the cursor is, on a line of its own, so it
  // can follow a greeting already written.
  function insertAtCursor(textarea, text) {
    var before = textarea.value.slice(0, textarea.selectionStart);
    var after = textarea.value.slice(textarea.selectionEnd);
    if (before && !/\s$/.test(before)) { before += "\n"; }
    if (after && !/^\s/.test(after)) { text += "\n"; }
    textarea.value = before + text + after;
    textarea.setSelectionRange((before + text).length, (before + text).length);
  }

  document.addEventListener("input", function (event) {
    if (event.target.matches("[data-reply-text]")) { updateLength(event.target); }
  });

  document.addEventListener("click", function (event) {
    var canned = event.target.closest("[data-canned-text]");
    if (canned) {
      var textarea = document.querySelector("[data-reply-text]");
      textarea.value = canned.getAttribute("data-canned-text");
      updateLength(textarea);
      textarea.focus();
    }
    var insert = event.target.closest("[data-insert-text]");
    if (insert) {
      var reply = document.querySelector("[data-reply-text]");
      insertAtCursor(reply, insert.getAttribute("data-insert-text"));
      updateLength(reply);
      reply.focus();
    }
    if (event.target.closest("[data-shortcuts-open]")) {
      document.getElementById("shortcuts-help").showModal();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
    // While the help (or any dialog) is open, keys belong to it: nothing moves behind it.
    if (document.querySelector("dialog[open]")) { return; }
    var handled = true;
    switch (event.key) {
      case "j": select(selected + 1); break;
      case "k": select(selected - 1); break;
      case "r": handled = focus("[data-reply-text]"); break;
      case "e":
        var close = document.querySelector("[data-close-form]");
        if (close) { close.requestSubmit(); } else { handled = false; }
        break;
      case "s": handled = focus("#id_until"); break;
      case "t": handled = focus("#id_name"); break;
      case "/": handled = focus("#id_q") || focus("#canned-q"); break;
      case "?": document.getElementById("shortcuts-help").showModal(); break;
      default: handled = false;
    }
    if (handled) { event.preventDefault(); }
  });

  // The periodic refresh of the queue skips a turn while the manager types in its filters or
  // the tab is hidden, and keeps the selected row selected after the swap.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var queue = event.detail.elt;
    if (queue.id !== "queue") { return; }
    if (document.hidden || (queue.contains(document.activeElement) && typing(document.activeElement))) {
      event.preventDefault();
    }
  });
  document.addEventListener("htmx:afterSwap", function () {
    if (selected >= 0 && rows().length) {
      var all = rows();
      var row = all[Math.min(selected, all.length - 1)];
      row.classList.add("selected");
      // The swap took the focus with the old row: give it back, so Enter still opens it.
      if (document.activeElement === document.body) { row.querySelector("[data-row-link]").focus(); }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var textarea = document.querySelector("[data-reply-text]");
    if (textarea) { updateLength(textarea); }
  });
})();
