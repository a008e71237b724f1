/* SIPAS on a counter's tablet (kiosk mode), loaded after survey.js on the kiosk's pages only.

   The first screen is the overall rating alone (the stylesheet hides the rest until a face is chosen, so it
   works without this script); this script then brings the questions into view. A fresh form follows N
   seconds (data-kiosk) after the thank-you page, after answers were kept for sending later, or after N
   seconds without a touch, once a warning the citizen can dismiss has been shown for 20 seconds. Nothing of
   one citizen is left for the next: every step replaces the page (the tab's history does not grow), the
   form is emptied, localStorage and sessionStorage are cleared except the queue of answers not sent yet
   (sipas:queue), the service worker's record of delivered ids is dropped (its unsent entries stay until
   they are delivered), and each fresh form gets a new submission id (a copy from the cache may be old). */
(function () {
  "use strict";
  var form = document.getElementById("survey"), thanks = document.getElementById("thanks"), page = form || thanks;
  if (!page || !page.hasAttribute("data-kiosk")) { return; }
  var wait = Math.max(10, parseInt(page.getAttribute("data-kiosk"), 10) || 30) * 1000;
  var fresh = page.getAttribute("data-fresh"), WARNING = 20000, leaving = false;

  function forgetDelivered() {  // the worker's "sent" entries (ids only); resolves when done, or after a second
    return new Promise(function (done) {
      setTimeout(done, 1000);
      try {
        var open = indexedDB.open("sipas", 1);
        open.onupgradeneeded = function () { open.result.createObjectStore("queue", { keyPath: "id" }); };
        open.onerror = done;
        open.onsuccess = function () {
          var t = open.result.transaction("queue", "readwrite"), walk = t.objectStore("queue").openCursor();
          walk.onsuccess = function () {
            var c = walk.result;
            if (c) { if (c.value.state === "sent") { c.delete(); } c.continue(); }
          };
          t.oncomplete = t.onabort = t.onerror = function () { open.result.close(); done(); };
        };
      } catch (e) { done(); }
    });
  }
  function wipe() {
    if (form) { form.reset(); }
    try {
      Object.keys(localStorage).forEach(function (k) { if (k !== "sipas:queue") { localStorage.removeItem(k); } });
      sessionStorage.clear();
    } catch (e) { /* storage switched off */ }
    return forgetDelivered();
  }
  function restart() {
    if (leaving) { return; }
    leaving = true;
    wipe().then(function () {
      // Offline, a new page might not load: the form starts afresh where it is (kept answers stay queued).
      if (form && navigator.onLine === false) { return afresh(); }
      location.replace(fresh);
    });
  }
  function uuid() {
    var b = window.crypto.getRandomValues(new Uint8Array(16)), h = "", i;
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    for (i = 0; i < 16; i += 1) { h += (b[i] + 256).toString(16).slice(1); }
    return h.replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
  }

  // Back or forward to a kiosk page (or one restored from the back-forward cache) shows a fresh form instead.
  var nav = window.performance && performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
  if (nav && nav.type === "back_forward") { return restart(); }
  window.addEventListener("pageshow", function (e) { if (e.persisted) { restart(); } });
  window.addEventListener("pagehide", function () { if (form && !leaving) { form.reset(); } });

  if (thanks) {
    setTimeout(restart, wait);
    var next = document.getElementById("fresh");
    if (next) { next.addEventListener("click", function (e) { e.preventDefault(); restart(); }); }
    return;
  }

  var summary = document.querySelector(".error-summary"), touched = !!summary, timer = null, warned = null, done = false;
  var dialog = document.getElementById("idle"), status = document.getElementById("status");
  if (!summary) { form.elements.submission_id.value = uuid(); }
  form.addEventListener("change", function (e) {
    touched = true;
    if (e.target.name === "overall" && !summary && !form.getAttribute("data-shown")) {
      form.setAttribute("data-shown", "1");
      var intro = form.querySelector("p.hint:not(#overall-hint)");
      if (intro) { intro.scrollIntoView(); }
    }
  });
  form.addEventListener("input", function () { touched = true; });

  function afresh() {
    leaving = false;
    form.reset();
    form.elements.submission_id.value = uuid();
    form.classList.add("k1");
    form.removeAttribute("data-shown");
    form.dispatchEvent(new Event("change"));  // survey.js counts the answers again (none)
    if (status) { status.textContent = ""; }
    touched = done = false;
    window.scrollTo(0, 0);
    arm();
  }
  function arm() {  // (re)start the inactivity clock; while the warning shows, only its button stops it
    if (done || (dialog && dialog.open)) { return; }
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (!touched) { return arm(); }  // nothing to clear yet
      if (!dialog || !dialog.showModal) { return restart(); }
      dialog.showModal();
      warned = setTimeout(restart, WARNING);
    }, wait);
  }
  function resume() { clearTimeout(warned); if (dialog.open) { dialog.close(); } arm(); }
  ["pointerdown", "keydown", "input", "change", "scroll"].forEach(function (type) {
    window.addEventListener(type, arm, { capture: true, passive: true });
  });
  if (dialog && dialog.showModal) {
    document.getElementById("idle-continue").addEventListener("click", resume);
    dialog.addEventListener("cancel", function (e) { e.preventDefault(); resume(); });
  }
  arm();
  // Answers kept on the tablet for sending later (no connection, service busy): this citizen is done.
  if (status && window.MutationObserver) {
    new MutationObserver(function () {
      var text = status.textContent;
      if (text && (text === form.getAttribute("data-queued") || text === form.getAttribute("data-held"))) {
        done = true;
        clearTimeout(timer);
        setTimeout(restart, wait);
      }
    }).observe(status, { childList: true, characterData: true, subtree: true });
  }
}());
