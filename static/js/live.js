// journeymap live: every open map page polls #live (hx-trigger="every 2s"). The server
// answers 204 while nothing changed; else the avatars, the "who changed what" line and the
// next stamp come back out of band, with the events (map-changed, comments-changed,
// votes-changed) that make the regions fetch themselves again. This file sends the stamp
// and the presence back, keeps the poll's own failures out of the toasts, and makes a
// refresh harmless: no form the person is filling in is replaced, and the board, the
// diagram and the page stay scrolled and focused where they were.
(function () {
  "use strict";
  if (window.journeymapLive) return; // a boosted tab switch runs the page's scripts again
  window.journeymapLive = true;

  var REFRESHING = { "map-changed": true, "comments-changed": true, "votes-changed": true, "others-commented": true };
  var FIELDS = "input:not([type=hidden]), select, textarea, [contenteditable]";

  function isPoll(evt) {
    var elt = evt.detail && evt.detail.elt;
    return !!(elt && elt.id === "live");
  }

  // A region's GET that one of the refreshing events started (the poll's, or the answer
  // to the person's own change).
  function refreshEvent(evt) {
    var config = evt.detail && (evt.detail.requestConfig || evt.detail);
    var trigger = config && config.triggeringEvent;
    return trigger && REFRESHING[trigger.type] && (config.verb || "get") === "get" ? trigger : null;
  }

  // --- the poll ------------------------------------------------------------------------

  // A comment list answers the person's own comment itself; it refreshes on the others'
  // only, which the poll brings: said again as "others-commented".
  document.addEventListener("comments-changed", function (evt) {
    if (evt.target && evt.target.id === "live") htmx.trigger(document.body, "others-commented");
  });

  document.addEventListener("htmx:configRequest", function (evt) {
    if (!isPoll(evt)) return;
    var state = document.getElementById("live-state");
    if (!state) return;
    evt.detail.parameters.stamp = state.getAttribute("data-stamp") || "";
    evt.detail.parameters.presence = state.getAttribute("data-presence") || "";
  });

  document.addEventListener("htmx:beforeRequest", function (evt) {
    if (isPoll(evt) && evt.detail.elt.hasAttribute("data-stopped")) evt.preventDefault();
  });

  // The person's own changes on their way. Their answer brings what changed (the board's
  // columns, the gap list); a poll that learns of the change first (the server commits it
  // before it has drawn the answer) would have every region fetch it a second time. Such
  // a poll's answer is left unread: the next poll says again whatever it said.
  // A change whose end was never heard of stops counting after WRITE_MS.
  var writes = [], WRITE_MS = 15000;
  document.addEventListener("htmx:beforeSend", function (evt) {
    var config = evt.detail.requestConfig;
    if (config && config.verb !== "get" && evt.detail.xhr) writes.push({ xhr: evt.detail.xhr, until: Date.now() + WRITE_MS });
  });
  function written(evt) {
    var xhr = evt.detail && evt.detail.xhr, now = Date.now();
    writes = writes.filter(function (w) { return w.xhr !== xhr && w.until > now; });
  }
  ["htmx:afterRequest", "htmx:sendError", "htmx:sendAbort", "htmx:timeout"].forEach(function (name) {
    document.addEventListener(name, written);
  });
  document.addEventListener("htmx:beforeOnLoad", function (evt) {
    if (!isPoll(evt)) return;
    written(evt);
    if (writes.length) evt.preventDefault();
  });

  // --- the board: only what changed ----------------------------------------------------
  // The board says which stamp (version, open comments) it shows. Its refresh asks what
  // changed since (nothing: 204; else the changed columns, out of band); a change the
  // person sends says it too, and its answer brings the changed columns along.

  function board() { return document.getElementById("board"); }

  function versionOf(stamp) { return parseInt(String(stamp || "").split(".")[0], 10) || 0; }

  document.addEventListener("htmx:configRequest", function (evt) {
    var shown = board();
    if (!shown || !shown.dataset.stamp) return;
    if (evt.detail.elt === shown && evt.detail.verb === "get") evt.detail.parameters.since = shown.dataset.stamp;
    else if (evt.detail.verb !== "get") evt.detail.headers["X-Board-Stamp"] = shown.dataset.stamp;
  });

  // The diagram says which drawing it shows (its ETag): the same drawing, fetched again
  // (the poll hears of a change the person's own answer already brought), is not put in
  // again. A drawing of 500 cards is a megabyte of SVG: half a second of the browser's time.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var target = evt.detail.target, xhr = evt.detail.xhr;
    if (!target || target.id !== "diagram" || !xhr) return;
    var etag = xhr.getResponseHeader("ETag");
    if (etag && etag === target.getAttribute("data-shown")) evt.detail.shouldSwap = false;
    else if (etag) target.setAttribute("data-shown", etag);
    else target.removeAttribute("data-shown");
  });

  // The gap list says which list it shows (a digest, its first element): its refresh
  // asks for it only if it changed (else 204), and a change's answer leaves it out.
  document.addEventListener("htmx:configRequest", function (evt) {
    var mark = document.querySelector("#gaps > [data-gaps-digest]");
    if (!mark) return;
    var digest = mark.getAttribute("data-gaps-digest");
    if (evt.detail.elt.id === "gaps" && evt.detail.verb === "get") evt.detail.parameters.since = digest;
    else if (evt.detail.verb !== "get") evt.detail.headers["X-Gaps-Digest"] = digest;
  });

  // Answers can cross: a column older than the board's is not put back.
  document.addEventListener("htmx:oobBeforeSwap", function (evt) {
    var shown = board(), incoming = evt.detail.fragment && evt.detail.fragment.firstElementChild;
    if (!shown || !incoming || !incoming.classList.contains("stage-col")) return;
    if (versionOf(incoming.getAttribute("data-version")) < versionOf(shown.dataset.version)) evt.detail.shouldSwap = false;
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var xhr = evt.detail.xhr, shown = board();
    var stamp = xhr && evt.detail.successful ? xhr.getResponseHeader("X-Board-Stamp") : null;
    if (!stamp || !shown || versionOf(stamp) < versionOf(shown.dataset.version)) return;
    shown.dataset.stamp = stamp;
    shown.dataset.version = String(versionOf(stamp));
  });

  // The poll's failures are its own: app.js's toasts speak of changes not saved. Caught on
  // the way down (capture), before they reach the body.
  function pollFailed(evt) {
    if (!isPoll(evt)) return;
    evt.stopPropagation();
    var box = evt.detail.elt, xhr = evt.detail.xhr, line = document.getElementById("live-line");
    if (evt.type === "htmx:responseError" && xhr && (xhr.status === 403 || xhr.status === 410)) {
      // The pass is refused or too old: say so once and stop asking.
      box.setAttribute("data-stopped", "");
      box.classList.add("stopped");
      if (line) line.textContent = xhr.responseText;
    } else {
      box.classList.add("offline");
    }
  }
  ["htmx:responseError", "htmx:sendError", "htmx:timeout"].forEach(function (name) {
    document.addEventListener(name, pollFailed, true);
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    if (!isPoll(evt)) return;
    if (evt.detail.successful) evt.detail.elt.classList.remove("offline");
    retryHeld();
  });

  // A new line stands out for a moment, then settles into the header.
  document.addEventListener("htmx:oobAfterSwap", function (evt) {
    var line = evt.detail && evt.detail.target;
    if (!line || line.id !== "live-line") return;
    line.classList.add("fresh");
    clearTimeout(line._fresh);
    line._fresh = setTimeout(function () { line.classList.remove("fresh"); }, 4000);
  });

  // --- never replace what the person is filling in -------------------------------------

  function dirty(form) {
    if (window.journeymap && window.journeymap.formDirty) return window.journeymap.formDirty(form);
    return Array.prototype.some.call(form.querySelectorAll("input, select, textarea"), function (el) {
      return el.type === "checkbox" || el.type === "radio" ? el.checked !== el.defaultChecked : el.value !== el.defaultValue;
    });
  }

  function busy(region) {
    if (!region || !document.contains(region)) return false;
    var active = document.activeElement;
    if (active && region.contains(active) && active.matches && active.matches(FIELDS)) return true;
    if (region.querySelector(".sortable-chosen, .sortable-drag")) return true; // a card being dragged
    return Array.prototype.some.call(region.querySelectorAll("form"), dirty);
  }

  // Refreshes held back, by the element that asks for them: sent once the region is free.
  var held = [];

  document.addEventListener("htmx:confirm", function (evt) {
    if (!refreshEvent(evt) || !busy(evt.detail.target)) return;
    evt.preventDefault();
    var elt = evt.detail.elt;
    held = held.filter(function (h) { return h.elt !== elt; });
    held.push({ elt: elt, target: evt.detail.target, send: evt.detail.issueRequest });
  });

  function retryHeld() {
    held = held.filter(function (h) {
      if (!document.contains(h.elt)) return false;
      if (busy(h.target)) return true;
      h.send(true);
      return false;
    });
  }

  document.addEventListener("focusout", function () { setTimeout(retryHeld, 0); });

  // --- scroll and focus stay where they were ---------------------------------------------

  function scrolled(root) {
    var boxes = [root].concat(Array.prototype.slice.call(root.querySelectorAll("[id]")));
    return boxes.filter(function (el) { return el.id && (el.scrollLeft || el.scrollTop); })
      .map(function (el) { return { id: el.id, left: el.scrollLeft, top: el.scrollTop }; });
  }

  // Where focus is inside the region, said so that it can be found in the new one: the
  // element's id, else its card's (or stage's) id and its data-focus, else its place.
  function focusPlace(region) {
    var active = document.activeElement;
    if (!active || active === document.body || !region.contains(active)) return null;
    if (active.id) return { id: active.id };
    var box = active.parentElement && active.parentElement.closest("[id]");
    if (!box || !region.contains(box) && box !== region) return null;
    var focus = active.getAttribute("data-focus");
    if (focus) return { id: box.id, focus: focus };
    return { id: box.id, index: Array.prototype.indexOf.call(box.querySelectorAll("a[href], button, summary, [tabindex]"), active) };
  }

  function findFocus(place) {
    var box = document.getElementById(place.id);
    if (!box || place.focus === undefined && place.index === undefined) return box;
    if (place.focus) return box.querySelector('[data-focus="' + CSS.escape(place.focus) + '"]');
    return place.index >= 0 ? box.querySelectorAll("a[href], button, summary, [tabindex]")[place.index] : null;
  }

  document.addEventListener("htmx:beforeSwap", function (evt) {
    var trigger = refreshEvent(evt), region = evt.detail.target;
    if (!trigger || !region || !evt.detail.shouldSwap) return;
    var kept = { boxes: scrolled(region), x: window.scrollX, y: window.scrollY };
    // Focus is put back for the others' changes; after the person's own, app.js does it.
    var fromPoll = trigger.type === "others-commented" || (trigger.target && trigger.target.id === "live");
    var place = fromPoll ? focusPlace(region) : null;
    // htmx swaps right after this event (no swap delay here): put things back just after.
    setTimeout(function () {
      kept.boxes.forEach(function (k) {
        var el = document.getElementById(k.id);
        if (el) { el.scrollLeft = k.left; el.scrollTop = k.top; }
      });
      if (window.scrollX !== kept.x || window.scrollY !== kept.y) window.scrollTo(kept.x, kept.y);
      var active = document.activeElement;
      if (place && (!active || active === document.body || !document.contains(active))) {
        var el = findFocus(place);
        if (el && el.getClientRects().length) el.focus({ preventScroll: true });
      }
    }, 0);
  });
})();
