// journeymap: the little the server cannot do. htmx does the requests; this file adds
// drag and drop (Sortable), the toast, Escape to close the editor, and 422 swaps.
(function () {
  "use strict";

  function toast(message, isError) {
    var box = document.getElementById("toast");
    if (!box) return;
    box.textContent = message;
    box.className = "toast" + (isError ? " error" : "");
    box.hidden = false;
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.hidden = true; }, isError ? 6000 : 2500);
  }

  function closeEditor() {
    var editor = document.getElementById("editor");
    if (editor && editor.innerHTML.trim()) {
      editor.innerHTML = "";
      var back = document.querySelector("[data-last-opener]");
      if (back) { back.removeAttribute("data-last-opener"); back.focus(); }
    }
  }

  function sortableInit(root) {
    if (typeof Sortable === "undefined") return;
    root.querySelectorAll("[data-sortable-touchpoints]").forEach(function (list) {
      if (list._sortable) return;
      list._sortable = Sortable.create(list, {
        group: "touchpoints", handle: ".handle", draggable: ".tp-card", animation: 120,
        onEnd: function (evt) {
          var target = evt.to;
          var keys = Array.prototype.map.call(target.querySelectorAll(".tp-card"), function (c) { return c.dataset.key; });
          var form = new FormData();
          form.append("stage", target.dataset.stage);
          keys.forEach(function (k) { form.append("order", k); });
          htmx.ajax("POST", target.dataset.reorderUrl, { values: formToValues(form), swap: "none", source: document.body });
        }
      });
    });
    root.querySelectorAll("[data-sortable-stages]").forEach(function (row) {
      if (row._sortable) return;
      row._sortable = Sortable.create(row, {
        handle: ".stage-handle", draggable: ".stage-chip", animation: 120,
        onEnd: function () {
          var form = new FormData();
          row.querySelectorAll(".stage-chip").forEach(function (c) { form.append("order", c.dataset.key); });
          htmx.ajax("POST", row.dataset.reorderUrl, { values: formToValues(form), swap: "none", source: document.body });
        }
      });
    });
  }

  function formToValues(form) {
    var values = {};
    form.forEach(function (value, key) {
      if (key in values) { values[key] = [].concat(values[key], value); } else { values[key] = value; }
    });
    return values;
  }

  document.addEventListener("DOMContentLoaded", function () {
    // Invalid forms answer 422 with the form and its errors: swap them in like a 200.
    document.body.addEventListener("htmx:beforeSwap", function (evt) {
      // 409: someone else changed the same fields; the form comes back with both versions.
      if (evt.detail.xhr.status === 422 || evt.detail.xhr.status === 409) { evt.detail.shouldSwap = true; evt.detail.isError = false; }
    });
    document.body.addEventListener("htmx:responseError", function (evt) {
      var status = evt.detail.xhr.status;
      if (status === 400 || status === 409) return; // the journeymap-error event already said why
      var text = status === 403 ? "You can view this workspace but not change it."
        : status === 404 ? "That no longer exists; reload the page." : "Something went wrong (" + status + "). Nothing was changed.";
      toast(text, true);
    });
    document.body.addEventListener("htmx:sendError", function () { toast("The server cannot be reached. Nothing was changed.", true); });
    document.body.addEventListener("journeymap-error", function (evt) { toast(evt.detail.message, true); });
    document.body.addEventListener("journeymap-saved", function (evt) { toast(evt.detail.message, false); });
    document.body.addEventListener("htmx:afterSwap", function (evt) {
      if (evt.detail.target && evt.detail.target.id === "editor") {
        var first = evt.detail.target.querySelector("h2, input, select, textarea");
        if (first) { if (first.tagName === "H2") first.setAttribute("tabindex", "-1"); first.focus(); }
      }
    });
    document.body.addEventListener("htmx:beforeRequest", function (evt) {
      var elt = evt.detail.elt;
      if (elt && elt.getAttribute && elt.getAttribute("hx-target") === "#editor") {
        document.querySelectorAll("[data-last-opener]").forEach(function (e) { e.removeAttribute("data-last-opener"); });
        elt.setAttribute("data-last-opener", "");
      }
    });
    document.body.addEventListener("htmx:load", function (evt) { sortableInit(evt.detail.elt); });
    document.addEventListener("keydown", function (evt) { if (evt.key === "Escape") closeEditor(); });
    // A node of the inline diagram opens its touchpoint in the editor, like a card does.
    document.body.addEventListener("click", function (evt) {
      var link = evt.target.closest("#diagram a");
      var href = link && (link.getAttribute("href") || link.getAttribute("xlink:href"));
      if (!href || !document.getElementById("editor")) return;
      evt.preventDefault();
      htmx.ajax("GET", href, { target: "#editor", swap: "innerHTML" });
    });
    document.body.addEventListener("click", function (evt) {
      if (evt.target.closest("[data-close-editor]")) { evt.preventDefault(); closeEditor(); }
    });
    sortableInit(document);
  });
})();
