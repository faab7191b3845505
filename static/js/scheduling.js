// Publishing pages. Each page's behaviour lives in its own section below. No inline script
// anywhere (Content-Security-Policy).

/* calendar */
// Calendar: drag a post by its time and channel onto another hour (week) or day (month) to move it,
// or onto the cancel zone to drop it. A drag only fills in and submits the post's own form, the one
// the keyboard uses, so the server checks every change the same way; htmx posts it with the CSRF
// token and the page reloads with the outcome.
(function () {
  "use strict";

  var dragged = null;

  function pad(number) { return (number < 10 ? "0" : "") + number; }

  // The new local time: the slot's day, the slot's hour (week) or the post's own hour (month),
  // and always the post's own minutes.
  function newTime(event, slot) {
    var time = event.getAttribute("data-local-time");
    var hour = slot.getAttribute("data-slot-hour");
    if (hour !== null) { time = pad(parseInt(hour, 10)) + time.slice(2); }
    return slot.getAttribute("data-slot-date") + "T" + time;
  }

  function submit(form) {
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
  }

  function dropTarget(target) {
    return target.closest ? target.closest("[data-slot-date], [data-cancel-zone]") : null;
  }

  function clearTargets() {
    document.querySelectorAll(".drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[data-movable]")) {
      document.querySelectorAll("[data-cancel-zone]").forEach(function (zone) { zone.hidden = false; });
    }
  });

  document.addEventListener("dragstart", function (e) {
    var handle = e.target.closest ? e.target.closest("[data-drag-handle]") : null;
    if (!handle) { return; }
    dragged = handle.closest("[data-movable]");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", dragged.id);
    if (e.dataTransfer.setDragImage) { e.dataTransfer.setDragImage(dragged, 10, 10); }
    document.body.classList.add("calendar-dragging");
  });

  document.addEventListener("dragend", function () {
    dragged = null;
    clearTargets();
    document.body.classList.remove("calendar-dragging");
  });

  document.addEventListener("dragover", function (e) {
    var target = dragged && dropTarget(e.target);
    if (!target) { return; }
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    if (!target.classList.contains("drop-target")) {
      clearTargets();
      target.classList.add("drop-target");
    }
  });

  document.addEventListener("drop", function (e) {
    var target = dragged && dropTarget(e.target);
    if (!target) { return; }
    e.preventDefault();
    var event = dragged;
    clearTargets();
    if (target.hasAttribute("data-cancel-zone")) {
      if (window.confirm(target.getAttribute("data-confirm"))) { submit(event.querySelector("[data-cancel-form]")); }
      return;
    }
    var form = event.querySelector("[data-move-form]");
    var at = form.querySelector("[data-move-at]");
    if (at.value === newTime(event, target)) { return; }
    at.value = newTime(event, target);
    submit(form);
  });
})();
