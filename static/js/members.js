// The workspace settings page: the Copy button next to a new invitation link. Without
// JavaScript (or a clipboard) the button stays hidden and the link is selectable text.
(function () {
  "use strict";
  function showButtons(root) {
    if (!navigator.clipboard) return;
    root.querySelectorAll("[data-copy]").forEach(function (button) { button.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", function () { showButtons(document); });
  document.addEventListener("htmx:afterSettle", function (evt) {
    showButtons(evt.target);
    // A new link is what the owner came for: it gets the focus, selected for copying.
    var link = evt.target.querySelector && evt.target.querySelector("#new-link");
    if (link) setTimeout(function () { link.focus(); link.select(); }, 0);
  });
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.dataset.copy);
    if (!field) return;
    navigator.clipboard.writeText(field.value).then(function () {
      button.textContent = button.dataset.copied;
    }, function () {
      field.focus();
      field.select();
    });
  });
})();
