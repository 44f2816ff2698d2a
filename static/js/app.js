// journeymap: the little the server cannot do. htmx does the requests; this file adds
// drag and drop (Sortable), the toast, 422/409 swaps, an editor that never drops what a
// person typed without asking, focus that returns to where the person was after the board
// refreshes, menus that close like menus, export links that follow the diagram view, and
// what the Content Security Policy keeps out of the templates (styles, handlers).
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

  // Words people read come from the page, in their language: an element's text, or one of
  // its data- attributes (base.html renders them with {% translate %}). The English is for
  // a page drawn without them.
  function pageText(id, attr, english) {
    var el = document.getElementById(id);
    var text = el && (attr ? el.getAttribute(attr) : el.textContent);
    return (text && text.trim()) || english;
  }

  function editorBox() {
    var editor = document.getElementById("editor");
    return editor && editor.innerHTML.trim() ? editor : null;
  }

  // --- unsaved input -------------------------------------------------------------------

  function fieldChanged(el) {
    var type = el.type;
    if (el.disabled || !el.name || /^(hidden|submit|button|reset|file)$/.test(type)) return false;
    if (type === "checkbox" || type === "radio") return el.checked !== el.defaultChecked;
    if (el.tagName === "SELECT") {
      var options = el.options, marked = false, i;
      for (i = 0; i < options.length; i++) { if (options[i].defaultSelected) marked = true; }
      for (i = 0; i < options.length; i++) {
        // With no option marked, a single select starts on its first option.
        var start = options[i].defaultSelected || (!marked && !el.multiple && i === 0);
        if (options[i].selected !== start) return true;
      }
      return false;
    }
    return el.value !== el.defaultValue;
  }

  // A form sent with changes that came back refused (errors, or someone else's change)
  // holds input not saved yet, though every field now shows what was sent: data-unsaved.
  var sentChanged = null;

  function formDirty(form) {
    if (form.hasAttribute("data-unsaved")) return true;
    return Array.prototype.some.call(form.querySelectorAll("input, select, textarea"), fieldChanged);
  }

  // live.js holds back a region's refresh while it has a form with input not saved yet.
  window.journeymap = window.journeymap || {};
  window.journeymap.formDirty = formDirty;

  function dirtyForms(root, except) {
    if (!root) return false;
    return Array.prototype.some.call(root.querySelectorAll("form"), function (f) { return f !== except && formDirty(f); });
  }

  // "Discard your changes?" in the page's <dialog> (base.html); `then` runs only on Discard.
  function askDiscard(then) {
    var dialog = document.getElementById("discard-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      if (window.confirm(pageText("discard-title", null, "Discard your changes?"))) then();
      return;
    }
    dialog.returnValue = "";
    function onClick(evt) {
      var button = evt.target.closest("button[value]");
      if (button) dialog.close(button.value);
    }
    dialog.addEventListener("click", onClick);
    dialog.addEventListener("close", function onClose() {
      dialog.removeEventListener("close", onClose);
      dialog.removeEventListener("click", onClick);
      if (dialog.returnValue === "discard") then();
    });
    dialog.showModal();
  }

  // --- the editor drawer ---------------------------------------------------------------

  // What opened the editor; kept even when a redraw detaches it, to find its successor.
  var lastOpener = null;

  // A control inside a closed menu cannot take focus; its menu button can.
  function focusable(el) {
    var menu = el && el.closest && el.closest("details.menu");
    return menu ? menu.querySelector("summary") : el;
  }

  function closeEditor() {
    var editor = editorBox();
    if (!editor) return;
    editor.innerHTML = "";
    var back = lastOpener;
    lastOpener = null;
    if (back) { expectFocusBack(back); restoreFocus(); }
  }

  function requestCloseEditor() {
    if (dirtyForms(editorBox())) askDiscard(closeEditor); else closeEditor();
  }

  // --- focus after the board refreshes -------------------------------------------------
  // A change answers with events; the board, gaps and header are then drawn anew and the
  // element that had focus is gone. `pending` lists where focus goes back to, best first.

  var pending = null;
  var CONTROLS = "a[href], button, select, input:not([type=hidden]), textarea, summary";

  function sel(id, focus) {
    return "#" + CSS.escape(id) + (focus ? ' [data-focus="' + focus + '"]' : "");
  }

  // A card or stage the person just created: the one the list did not have before.
  function newcomer(listSelector, itemSelector) {
    var known = {};
    document.querySelectorAll(listSelector + " " + itemSelector).forEach(function (e) { known[e.id] = true; });
    return function () {
      var items = document.querySelectorAll(listSelector + " " + itemSelector);
      for (var i = 0; i < items.length; i++) {
        if (!known[items[i].id]) return items[i].querySelector('[data-focus="name"]');
      }
      return null;
    };
  }

  function returnPlaces(el) {
    var places = [];
    el = focusable(el);
    if (!el || !el.closest) return places;
    var card = el.closest(".tp-card[id]"), head = el.closest(".stage-head[id]");
    var box = card || head || el.closest("[id]");
    var focus = el.getAttribute("data-focus");
    if (el.id === "add-stage") places.push(newcomer(".board", ".stage-head[id]"));
    if (el.id && el.id.indexOf("add-tp-") === 0) {
      places.push(newcomer('.tp-list[data-stage="' + CSS.escape(el.id.slice(7)) + '"]', ".tp-card[id]"));
    }
    if (el.id) places.push(sel(el.id));
    if (box && focus) places.push(sel(box.id, focus));
    if (card || head) {
      places.push(sel(box.id, "name"));
      // Deleted: the next card or stage, else the one before, else the add button. A
      // stage's head sits in its column (.stage-col); its neighbours are the columns'.
      var item = card || head.closest(".stage-col") || head;
      [item.nextElementSibling, item.previousElementSibling].forEach(function (s) {
        var next = s && (card ? s : s.querySelector(".stage-head[id]"));
        if (next && next.id) places.push(sel(next.id, "name"));
      });
      var list = card && card.closest(".tp-list");
      places.push(list ? sel("add-tp-" + list.getAttribute("data-stage")) : sel("add-stage"));
    } else if (box && !focus) {
      // Anything else redrawn in place (a coverage cell): the control at the same position.
      var index = Array.prototype.indexOf.call(box.querySelectorAll(CONTROLS), el), id = box.id;
      if (index >= 0) places.push(function () {
        var again = document.getElementById(id);
        return again && again.querySelectorAll(CONTROLS)[index];
      });
    }
    places.push(el);
    return places;
  }

  function expectFocusBack(el) {
    // A form's request: the button or field the person used inside it.
    var active = document.activeElement;
    if (active && active !== el && el.contains(active)) el = active;
    var places = returnPlaces(el);
    pending = places.length ? { places: places, until: Date.now() + 4000 } : null;
  }

  function restoreFocus() {
    if (!pending) return;
    if (Date.now() > pending.until) { pending = null; return; }
    var active = document.activeElement;
    if (active && active !== document.body && document.contains(active)) return; // the person moved on
    for (var i = 0; i < pending.places.length; i++) {
      var place = pending.places[i];
      var el = typeof place === "function" ? place() : typeof place === "string" ? document.querySelector(place) : place;
      if (el && document.contains(el) && !el.disabled && el.getClientRects().length) { el.focus(); return; }
    }
  }

  // --- errors: seen even below the fold ------------------------------------------------

  function showErrors(root) {
    var field = root.querySelector('[aria-invalid="true"], .has-error input:not([type=hidden]), .has-error select, .has-error textarea');
    var target = field || root.querySelector(".error-summary, .conflict");
    if (!target) return false;
    if (!field && !target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
    target.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
    return true;
  }

  // --- menus (<details class="menu">) --------------------------------------------------

  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) { if (d !== except) d.open = false; });
  }

  // --- export links follow the diagram view --------------------------------------------

  function syncExportLinks() {
    var select = document.getElementById("diagram-view");
    if (!select) return;
    document.querySelectorAll("a[data-view-link]").forEach(function (a) {
      var url = new URL(a.getAttribute("href"), window.location.href);
      if (select.value && select.value !== "stages") url.searchParams.set("view", select.value);
      else url.searchParams.delete("view");
      a.setAttribute("href", url.pathname + url.search);
    });
  }

  // --- drag and drop -------------------------------------------------------------------

  var openDetails = {};
  function keepOpen(root) {
    if (!root || !root.querySelectorAll) return;
    var found = Array.prototype.slice.call(root.querySelectorAll("details[data-keep-open]"));
    if (root.matches && root.matches("details[data-keep-open]")) found.push(root);
    found.forEach(function (d) { if (openDetails[d.id]) d.open = true; });
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
          form.append("version", boardVersion());
          htmx.ajax("POST", target.dataset.reorderUrl, { values: formToValues(form), swap: "none", source: document.body });
        }
      });
    });
    root.querySelectorAll("[data-sortable-stages]").forEach(function (row) {
      if (row._sortable) return;
      // The board's columns (one per stage, every lane) move as a whole.
      row._sortable = Sortable.create(row, {
        handle: ".stage-handle", draggable: ".stage-col", animation: 120,
        onEnd: function () {
          var form = new FormData();
          row.querySelectorAll(".stage-col").forEach(function (c) { form.append("order", c.dataset.key); });
          form.append("version", boardVersion());
          htmx.ajax("POST", row.dataset.reorderUrl, { values: formToValues(form), swap: "none", source: document.body });
        }
      });
    });
  }

  // The version of the map the board was drawn at: a drop made on an older board than
  // someone else's reorder of the same stage is refused (409) rather than undoing theirs.
  function boardVersion() {
    var board = document.getElementById("board");
    return board ? board.dataset.version || "" : "";
  }

  // Ctrl+Z (Cmd+Z) outside a text field takes back the person's own last change.
  function undoShortcut(evt) {
    if (!(evt.ctrlKey || evt.metaKey) || evt.shiftKey || evt.altKey || (evt.key || "").toLowerCase() !== "z") return;
    var field = evt.target.closest && evt.target.closest("input, textarea, select, [contenteditable]");
    var board = document.getElementById("board");
    if (field || !board || !board.dataset.undoUrl || editorBox()) return;
    evt.preventDefault();
    htmx.ajax("POST", board.dataset.undoUrl, { swap: "none", source: document.body });
  }

  function formToValues(form) {
    var values = {};
    form.forEach(function (value, key) {
      if (key in values) { values[key] = [].concat(values[key], value); } else { values[key] = value; }
    });
    return values;
  }

  // "Add KPI" and "Add criterion" inside the stage editor: the stage form above must keep
  // what was typed, so the answer never replaces the editor. Refused: only the new item's
  // fields come back (hx-select in _editor.html). Added or removed: the section (its list
  // and an empty form) is fetched afresh, and focus goes back to its first field.
  function refreshKpis(form) {
    var section = form.closest("[data-refresh-url]");
    var url = section && section.getAttribute("data-refresh-url");
    if (!url || !section.id) return;
    var target = "#" + section.id;
    htmx.ajax("GET", url, { target: target, select: target, swap: "outerHTML" }).then(function () {
      var first = document.querySelector(target + " form [name]:not([type=hidden])");
      if (first) first.focus();
    });
  }

  // --- what the Content Security Policy keeps out of the HTML ---------------------------
  // The policy (journeymap/settings.py) refuses style attributes, inline scripts and
  // on*= handlers. Values the server computes (a bar's width) come as
  // data-css-vars="--bar: 40%": set here through the CSSOM,
  // which the policy allows, as custom properties only; app.css reads them with var().
  // Run on the page and on whatever arrives later (htmx swaps, live refreshes).
  var CSS_VAR = /^\s*(--[A-Za-z0-9-]+)\s*:\s*([^;]*?)\s*$/;

  function applyCssVars(el) {
    (el.getAttribute("data-css-vars") || "").split(";").forEach(function (part) {
      var m = CSS_VAR.exec(part);
      if (m) el.style.setProperty(m[1], m[2]);
    });
  }

  function cssVarsIn(root) {
    if (!root.querySelectorAll) return;
    if (root.hasAttribute("data-css-vars")) applyCssVars(root);
    root.querySelectorAll("[data-css-vars]").forEach(applyCssVars);
  }

  cssVarsIn(document.documentElement);
  new MutationObserver(function (records) {
    records.forEach(function (r) {
      if (r.type === "attributes") applyCssVars(r.target);
      else r.addedNodes.forEach(cssVarsIn);
    });
  }).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-css-vars"] });

  // Copy buttons (data-copy="#field"): shown once JavaScript runs; the clipboard, else the
  // browser's own copy of the selected field. Without JavaScript the field is selectable text.
  function showCopyButtons(root) {
    if (root.querySelectorAll) root.querySelectorAll("button[data-copy][hidden]").forEach(function (b) { b.hidden = false; });
  }

  function copyField(button) {
    var field = document.querySelector(button.getAttribute("data-copy"));
    if (!field) return;
    field.focus();
    field.select();
    var copied = function () { button.textContent = button.getAttribute("data-copied") || button.textContent; };
    var fallback = function () { if (document.execCommand("copy")) copied(); };
    if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(copied, fallback); else fallback();
  }

  var leaving = false;

  document.addEventListener("DOMContentLoaded", function () {
    var body = document.body;

    body.addEventListener("htmx:beforeSwap", function (evt) {
      var status = evt.detail.xhr.status;
      // 422: the form and its errors; 409: someone else changed the same fields, the form
      // comes back with both versions. Both are swapped in like a 200.
      if (status === 422 || status === 409) { evt.detail.shouldSwap = true; evt.detail.isError = false; }
      var elt = evt.detail.requestConfig && evt.detail.requestConfig.elt;
      // 503: the database cannot be reached; the answer is the toast saying nothing was
      // changed (maps/middleware.py). The live poll keeps its own quiet "offline" mark.
      if (status === 503 && evt.detail.xhr.getResponseHeader("HX-Retarget") === "#toast" && !(elt && elt.id === "live")) {
        evt.detail.shouldSwap = true; evt.detail.isError = false;
      }
      if (status === 200 && elt && elt.hasAttribute && elt.hasAttribute("data-kpi-form")) {
        evt.detail.shouldSwap = false;
        refreshKpis(elt);
      }
    });
    body.addEventListener("htmx:responseError", function (evt) {
      var status = evt.detail.xhr.status;
      if (status === 400 || status === 409) return; // the journeymap-error event already said why
      var text = status === 403 ? pageText("toast", "data-forbidden", "You can view this workspace but not change it.")
        : status === 404 ? pageText("toast", "data-gone", "That no longer exists; reload the page.")
        : pageText("toast", "data-failed", "Something went wrong ({status}). Nothing was changed.").replace("{status}", status);
      toast(text, true);
    });
    body.addEventListener("htmx:sendError", function () { toast(pageText("toast", "data-unreachable", "The server cannot be reached. Nothing was changed."), true); });
    body.addEventListener("journeymap-error", function (evt) { toast(evt.detail.message, true); });
    body.addEventListener("journeymap-saved", function (evt) { toast(evt.detail.message, false); });

    // Anything that would replace the editor (or the page) while it holds unsaved input asks
    // first. A form submitting itself is not asked about; the other forms in the editor are.
    body.addEventListener("htmx:confirm", function (evt) {
      var editor = editorBox(), target = evt.detail.target, elt = evt.detail.elt;
      if (!editor || !target || !(target === editor || target.contains(editor))) return;
      var submitting = elt && elt.tagName === "FORM" && editor.contains(elt) ? elt : null;
      if (!dirtyForms(editor, submitting)) return;
      evt.preventDefault();
      askDiscard(function () { evt.detail.issueRequest(false); });
    });

    body.addEventListener("htmx:beforeRequest", function (evt) {
      var elt = evt.detail.elt, editor = document.getElementById("editor");
      if (elt && elt.tagName === "FORM") sentChanged = formDirty(elt) ? elt.getAttribute("hx-post") : null;
      if (!elt || !elt.getAttribute || (editor && editor.contains(elt))) return;
      if (elt.getAttribute("hx-target") === "#editor") {
        lastOpener = elt;
      } else if (evt.detail.requestConfig && evt.detail.requestConfig.verb !== "get" && elt !== body) {
        expectFocusBack(elt); // a one-click change on the board: move, remove a flow
      }
    });

    body.addEventListener("htmx:afterSwap", function (evt) {
      var target = evt.detail.target, status = evt.detail.xhr && evt.detail.xhr.status;
      if (!target || target.id !== "editor") return;
      if (!target.innerHTML.trim()) {
        // Saved or deleted: the drawer closes; focus goes back once the board is redrawn.
        target.innerHTML = "";
        var back = lastOpener;
        lastOpener = null;
        if (back) { expectFocusBack(back); restoreFocus(); }
        return;
      }
      if (status === 422 || status === 409) return; // afterSettle shows the errors
      var first = target.querySelector("h2, input, select, textarea");
      if (first) { if (first.tagName === "H2") first.setAttribute("tabindex", "-1"); first.focus(); }
    });

    body.addEventListener("htmx:afterSettle", function (evt) {
      var status = evt.detail.xhr && evt.detail.xhr.status;
      if ((status === 422 || status === 409) && sentChanged) {
        document.querySelectorAll("form[hx-post]").forEach(function (f) {
          if (f.getAttribute("hx-post") === sentChanged) f.setAttribute("data-unsaved", "");
        });
      }
      if (status === 422 || status === 409) {
        var target = evt.detail.target;
        showErrors(target && document.contains(target) ? target : document);
      }
      syncExportLinks();
      restoreFocus();
    });

    body.addEventListener("htmx:load", function (evt) { sortableInit(evt.detail.elt); keepOpen(evt.detail.elt); });
    // <details data-keep-open> (a stage's questions on the board) stay open when the
    // column around them is redrawn: an answer shows where it was asked.
    document.addEventListener("toggle", function (evt) {
      var d = evt.target;
      if (!d.matches || !d.matches("details[data-keep-open]") || !d.id) return;
      if (d.open) openDetails[d.id] = true; else delete openDetails[d.id];
    }, true);
    // A change's answer may bring the changed board columns along (out of band).
    body.addEventListener("htmx:oobAfterSwap", function () { setTimeout(restoreFocus, 0); });

    document.addEventListener("keydown", undoShortcut);
    document.addEventListener("keydown", function (evt) {
      if (evt.key !== "Escape" || evt.defaultPrevented || document.querySelector("dialog[open]")) return;
      var menu = document.querySelector("details.menu[open]");
      if (menu) { evt.preventDefault(); menu.open = false; menu.querySelector("summary").focus(); return; }
      // Handled here: the same key must not also cancel the dialog that asks.
      if (editorBox()) { evt.preventDefault(); requestCloseEditor(); }
    });

    // Menus: one open at a time; an outside click or a chosen item closes them.
    document.addEventListener("toggle", function (evt) {
      if (evt.target.matches && evt.target.matches("details.menu") && evt.target.open) closeMenus(evt.target);
    }, true);
    document.addEventListener("click", function (evt) {
      var inside = evt.target.closest("details.menu");
      closeMenus(inside);
      if (inside && evt.target.closest(".menu-items a")) inside.open = false;
    });

    // A node of the inline diagram opens its touchpoint in the editor, like a card does.
    body.addEventListener("click", function (evt) {
      var link = evt.target.closest("#diagram a");
      var href = link && (link.getAttribute("href") || link.getAttribute("xlink:href"));
      if (!href || !document.getElementById("editor")) return;
      evt.preventDefault();
      lastOpener = link;
      htmx.ajax("GET", href, { target: "#editor", swap: "innerHTML" });
    });

    body.addEventListener("click", function (evt) {
      var close = evt.target.closest("[data-close-editor]");
      if (close) {
        var editor = document.getElementById("editor");
        if (editor && editor.contains(close)) { evt.preventDefault(); requestCloseEditor(); return; }
        // A page of its own (no JavaScript drawer): Cancel is a link away from the form.
        if (dirtyForms(document.getElementById("main"))) {
          evt.preventDefault();
          askDiscard(function () { leaving = true; window.location.href = close.href; });
        }
        return;
      }
      var errorLink = evt.target.closest("a[data-error-link]");
      var field = errorLink && document.getElementById(errorLink.getAttribute("href").slice(1));
      if (field) { evt.preventDefault(); field.scrollIntoView({ block: "center" }); field.focus({ preventScroll: true }); }
    });
    body.addEventListener("change", function (evt) {
      var el = evt.target;
      if (el.id === "diagram-view") syncExportLinks();
      // "Fit width": data-fit="#diagram" shrinks that box's drawing to the page's width.
      var fit = el.getAttribute("data-fit"), box = fit && document.querySelector(fit);
      if (box) box.classList.toggle("fit", el.checked);
      // A plain GET form (the share page's view picker) follows its select at once.
      if (el.hasAttribute("data-submit-on-change") && el.form) el.form.requestSubmit();
    });
    // Buttons that ask first (data-confirm="question"), on forms without htmx.
    body.addEventListener("click", function (evt) {
      var ask = evt.target.closest("button[data-confirm], a[data-confirm]");
      if (ask && !window.confirm(ask.getAttribute("data-confirm"))) evt.preventDefault();
      var copy = evt.target.closest("button[data-copy]");
      if (copy) copyField(copy);
    });
    // A read-only field holding a link to copy: selected whole when it takes focus.
    body.addEventListener("focusin", function (evt) {
      if (evt.target.matches && evt.target.matches("input[data-select-on-focus]")) evt.target.select();
    });
    body.addEventListener("htmx:afterSettle", function (evt) { showCopyButtons(evt.target); });
    showCopyButtons(document);

    // Leaving the page (a link, reload, closing the tab) with unsaved input asks too.
    document.addEventListener("submit", function (evt) { if (!evt.defaultPrevented) leaving = true; });
    window.addEventListener("beforeunload", function (evt) {
      if (!leaving && dirtyForms(document.getElementById("editor") || document.querySelector(".edit-page"))) {
        evt.preventDefault();
        evt.returnValue = "";
      }
    });

    sortableInit(document);
    syncExportLinks();
    // A page drawn after a refused form (no htmx): go to the first thing to fix.
    if (document.querySelector(".error-summary")) showErrors(document);
  });
})();
