// The workspace settings page. A new invitation link is what the owner came for: it gets
// the focus, selected for copying (app.js shows its Copy button). A role change that is
// refused (the last owner, say) puts the select back to the role the member still has.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSettle", function (evt) {
    var link = evt.target.querySelector && evt.target.querySelector("#new-link");
    if (link) setTimeout(function () { link.focus(); link.select(); }, 0);
  });
  document.addEventListener("htmx:responseError", function (evt) {
    var form = evt.detail.elt;
    if (form && form.matches && form.matches("form[data-reset-on-error]")) form.reset();
  });
})();
