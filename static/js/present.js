/* Presenter mode: one stage at a time, stepped with the keyboard; a workshop timer.
   Without JavaScript every stage shows, one below the other. */
(function () {
  "use strict";
  var slides = [], pills = [];
  var counter = document.querySelector(".present-count");
  var current = 0;
  var shownId = null; // the id of the stage on screen

  function collect() {
    slides = Array.prototype.slice.call(document.querySelectorAll(".present-stage"));
    pills = Array.prototype.slice.call(document.querySelectorAll(".strip-stage"));
  }

  function indexOf(id) {
    for (var i = 0; i < slides.length; i++) if (slides[i].id === id) return i;
    return -1;
  }

  function indexOfHash() {
    return Math.max(0, indexOf(decodeURIComponent(location.hash.slice(1))));
  }

  function highlightDiagram() {
    var svg = document.querySelector("#present-diagram svg");
    if (!svg || !slides.length) return;
    var wanted = slides[current].getAttribute("data-cluster");
    var shown = null;
    svg.querySelectorAll("g.cluster").forEach(function (cluster) {
      var title = cluster.querySelector("title");
      var on = !!title && title.textContent === wanted;
      cluster.classList.toggle("current", on);
      cluster.classList.toggle("dimmed", !on);
      if (on) shown = cluster;
    });
    svg.classList.add("stepping");
    if (shown) shown.scrollIntoView({block: "nearest", inline: "center", behavior: "smooth"});
  }

  function show(index) {
    if (!slides.length) return;
    current = Math.max(0, Math.min(slides.length - 1, index));
    slides.forEach(function (slide, i) { slide.hidden = i !== current; });
    pills.forEach(function (pill, i) {
      if (i === current) pill.setAttribute("aria-current", "step"); else pill.removeAttribute("aria-current");
    });
    if (counter) {
      counter.textContent = counter.getAttribute("data-template")
        .replace("%(number)s", current + 1).replace("%(count)s", slides.length);
    }
    document.querySelectorAll("[data-step]").forEach(function (button) {
      var step = Number(button.getAttribute("data-step"));
      button.disabled = (step < 0 && current === 0) || (step > 0 && current === slides.length - 1);
    });
    shownId = slides[current].id;
    history.replaceState(null, "", "#" + shownId);
    highlightDiagram();
  }

  document.addEventListener("click", function (event) {
    var step = event.target.closest("[data-step]");
    if (step) { show(current + Number(step.getAttribute("data-step"))); return; }
    var pill = event.target.closest(".strip-stage");
    if (pill) { event.preventDefault(); show(Number(pill.getAttribute("data-index"))); }
  });

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable]")) return;
    var keys = {ArrowRight: 1, PageDown: 1, ArrowLeft: -1, PageUp: -1};
    if (event.key in keys) { event.preventDefault(); show(current + keys[event.key]); }
    else if (event.key === "Home") { event.preventDefault(); show(0); }
    else if (event.key === "End") { event.preventDefault(); show(slides.length - 1); }
    else if (event.key === "f" || event.key === "F") {
      if (document.fullscreenElement) document.exitFullscreen();
      else if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(function () {});
    } else if (event.key === "Escape" && !document.fullscreenElement) {
      location.href = document.getElementById("present-exit").href;
    }
  });

  // The diagram arrives (and is redrawn after a change) through htmx: mark its stage again.
  document.body.addEventListener("htmx:afterSettle", highlightDiagram);

  // Someone changed the map or its comments: the slides and the strip come back drawn
  // anew (out of band, maps/map_present.html). The stage on screen stays, unless it was
  // deleted. Watched as DOM changes, before the browser paints the new slides all shown:
  // htmx's own events for an out-of-band swap fire on the element it took out.
  new MutationObserver(function () {
    var stale = (slides.length && !document.contains(slides[0])) || (pills.length && !document.contains(pills[0]));
    if (!stale) return;
    collect();
    var index = shownId ? indexOf(shownId) : -1;
    show(index >= 0 ? index : current);
  }).observe(document.querySelector("main") || document.body, {childList: true, subtree: true});

  // The workshop timer: pick minutes, start, pause, reset; past zero it counts over time.
  var timer = document.querySelector(".timer");
  if (timer) {
    var display = timer.querySelector(".timer-time");
    var toggle = timer.querySelector('[data-timer="toggle"]');
    var total = 0, left = 0, running = null;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var draw = function () {
      var over = left < 0, s = Math.abs(left);
      display.textContent = (over ? "+" : "") + pad(Math.floor(s / 60)) + ":" + pad(s % 60);
      timer.classList.toggle("overtime", over);
      display.title = over ? timer.getAttribute("data-overtime") : "";
    };
    var stop = function () {
      clearInterval(running); running = null;
      toggle.textContent = toggle.getAttribute("data-start");
    };
    timer.addEventListener("click", function (event) {
      var button = event.target.closest("button");
      if (!button) return;
      if (button.hasAttribute("data-minutes")) {
        stop(); total = left = Number(button.getAttribute("data-minutes")) * 60; draw();
      } else if (button.getAttribute("data-timer") === "toggle") {
        if (running) { stop(); return; }
        running = setInterval(function () { left -= 1; draw(); }, 1000);
        toggle.textContent = toggle.getAttribute("data-pause");
      } else if (button.getAttribute("data-timer") === "reset") {
        stop(); left = total; draw();
      }
    });
  }

  window.addEventListener("hashchange", function () { show(indexOfHash()); });
  collect();
  show(indexOfHash());
})();
