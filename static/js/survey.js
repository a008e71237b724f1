/* SIPAS survey, progressive enhancement only: progress indicator; answers kept across reloads; a
   submission that cannot reach the server (offline, 503) is kept on the phone (by sw.js, else in
   localStorage) and sent later with the same submission id, which the server stores once. A kiosk
   (data-kiosk) keeps no answers across reloads. */
(function () {
  "use strict";
  var QUEUE = "sipas:queue", DRAFT = "sipas:draft:", SENT = "sipas:sent", store = null, sw = navigator.serviceWorker;
  try { store = window.localStorage; store.setItem("sipas:t", "1"); store.removeItem("sipas:t"); } catch (e) { store = null; }
  function load(key, fallback) {
    try { var v = store && store.getItem(key); return v ? JSON.parse(v) : fallback; } catch (e) { return fallback; }
  }
  function save(key, value) { try { if (store) { store.setItem(key, JSON.stringify(value)); } } catch (e) { /* full */ } }
  function drop(key) { if (store) { store.removeItem(key); } }
  // Ids the server has stored: a reloaded or cached page must not send new answers under one of them.
  function sent(id) { return load(SENT, []).indexOf(id) >= 0; }
  function markSent(id) { if (id && !sent(id)) { save(SENT, load(SENT, []).concat([id]).slice(-20)); } }
  function ask(msg) {  // a question for the service worker; rejects without one
    return new Promise(function (ok, fail) {
      var ch = window.MessageChannel && new MessageChannel();
      if (!sw || !sw.controller || !ch) { return fail(); }
      setTimeout(fail, 3000);
      ch.port1.onmessage = function (e) { return e.data ? ok(e.data) : fail(); };
      sw.controller.postMessage(msg, [ch.port2]);
    });
  }

  var form = document.getElementById("survey"), thanks = document.getElementById("thanks"), page = form || thanks;
  var kiosk = page && page.hasAttribute("data-kiosk"), rot = page && page.hasAttribute("data-rotated");
  var draftKey = DRAFT + location.pathname, status = document.getElementById("status"), bypass = false, flushing = false;
  if (sw && page) {
    window.addEventListener("load", function () { sw.register(page.getAttribute("data-sw"), { scope: "/s/" }).catch(function () {}); });
  }
  if (thanks) {
    var done = DRAFT + thanks.getAttribute("data-survey");
    markSent(load(done, { v: {} }).v.submission_id);
    drop(done);
  }

  function say(text) { if (status) { status.textContent = text; status.scrollIntoView({ block: "center" }); } }
  function id() { return form && form.elements.submission_id.value; }
  function kept(data) {
    var out = {};
    new URLSearchParams(data).forEach(function (v, k) { if (k !== "csrf_token" && k !== "website") { out[k] = v; } });
    return out;
  }
  function restore(v) {
    Object.keys(v).forEach(function (name) {
      var els = form.elements[name];
      if (!els || rot && name === "submission_id") { return; }
      if (els.length && els[0] && els[0].type === "radio") {
        Array.prototype.forEach.call(els, function (r) { r.checked = r.value === v[name]; });
      } else if (els.type === "checkbox") {
        els.checked = true;
      } else if (els.type !== "radio") {
        els.value = v[name];
      }
    });
  }
  function fix(v) {  // answers the server refused: show them, and let the browser post them so the server says why
    restore(v);
    remember();
    if (navigator.onLine !== false) { bypass = true; form.submit(); }
  }

  // One attempt (sipasSend, from sw.js): {url} when stored, {status} to retry later, {fix} to correct; rejects when offline.
  function send(entry) {
    return window.sipasSend(entry).then(function (r) {
      if (r.url) { markSent(entry.id); }
      return r.url || r.status ? r : { fix: kept(entry.body), back: r.back };
    });
  }
  function flush() {
    if (sw && sw.controller) { sw.controller.postMessage({}); }
    var entry = load(QUEUE, [])[0];
    if (flushing || !entry || navigator.onLine === false || !window.sipasSend) { return; }
    flushing = true;
    if (entry.id === id()) { say(form.getAttribute("data-sending")); }
    send(entry).then(function (result) {
      flushing = false;
      if (result.status) { return; }
      save(QUEUE, load(QUEUE, []).filter(function (e) { return e.id !== entry.id; }));
      if (entry.id === id()) { return result.fix && !result.back ? fix(result.fix) : location.replace(result.back || result.url); }
      if (result.fix) { save(DRAFT + new URL(entry.url).pathname, { t: Date.now(), v: result.fix }); }
      flush();
    }, function () { flushing = false; });
  }
  function hold(entry, message) {  // keep it with the service worker, else in localStorage (one entry per id)
    function local() { save(QUEUE, load(QUEUE, []).filter(function (e) { return e.id !== entry.id; }).concat([entry])); }
    ask({ type: "queue", entry: entry }).then(function (ok) { return ok || local(); }, local).then(function () { say(message); });
  }
  function greet() {  // what the service worker knows: ids sent since, answers to correct, a waiting submission
    ask({ type: "hello", path: location.pathname, url: location.href }).then(function (entries) {
      entries.forEach(function (e) { if (e.state === "sent") { markSent(e.id); } });
      if (!form) { return; }
      if (sent(id())) { renew(); }
      entries.forEach(function (e) {
        if (e.state === "fix" && !kiosk) { fix(kept(e.body)); } else if (!e.state && e.id === id()) { say(form.getAttribute("data-queued")); }
      });
    }, function () {});
  }
  if (sw) {
    sw.addEventListener("message", function (e) {
      if (!e.data.url) { return greet(); }
      markSent(e.data.id);
      if (e.data.id === id()) { drop(draftKey); location.replace(e.data.url); }
    });
    sw.addEventListener("controllerchange", greet);
  }
  window.addEventListener("online", flush);
  window.setInterval(flush, 30000);
  flush();
  if (!form) { return greet(); }

  var groups = form.querySelectorAll("fieldset.scale"), bar = document.createElement("div");
  bar.className = "prog";
  bar.innerHTML = "<span></span><progress max=\"" + groups.length + "\"></progress>";
  bar.lastChild.setAttribute("aria-hidden", "true");
  form.insertBefore(bar, form.firstChild);
  function progress() {
    var n = 0;
    Array.prototype.forEach.call(groups, function (g) { if (g.querySelector("input:checked")) { n += 1; } });
    bar.firstChild.textContent = form.getAttribute("data-progress").replace("{done}", n).replace("{total}", groups.length);
    bar.lastChild.value = n;
  }
  function remember() { if (!kiosk) { save(draftKey, { t: Date.now(), v: kept(new FormData(form)) }); } progress(); }
  function renew() {  // this page's id is already stored (a cached copy, a draft sent since): start afresh
    if (rot && Date.now() - load("sipas:rn", 0) > 1e4) { save("sipas:rn", Date.now()); return location.reload(); }
    var b = window.crypto.getRandomValues(new Uint8Array(16)), h = "", i;
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    for (i = 0; i < 16; i += 1) { h += (b[i] + 256).toString(16).slice(1); }
    drop(draftKey);
    form.reset();
    form.elements.submission_id.value = h.replace(/^(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
    progress();
  }

  var summary = document.querySelector(".error-summary"), draft = load(draftKey, null);
  if (summary) { summary.focus(); }
  // Server-side errors mean the page already shows what was posted: keep it, do not restore an old draft.
  if (draft && !summary && !kiosk && Date.now() - draft.t < 864e5) { restore(draft.v); }
  if (sent(id())) { renew(); }
  progress();
  greet();
  form.addEventListener("click", function (e) {  // an error link: its whole question below the sticky bar
    var a = e.target.closest(".error-summary a"), t = a && document.getElementById(a.hash.slice(1));
    if (t) { e.preventDefault(); (t.closest(".q,.fld") || t).scrollIntoView(); t.focus({ preventScroll: true }); }
  });
  form.addEventListener("change", remember);
  form.addEventListener("input", remember);
  form.addEventListener("submit", function (event) {
    if (bypass || !window.fetch || !store || !window.sipasSend) { return; }
    event.preventDefault();
    remember();
    var entry = { id: id(), url: form.action, body: new URLSearchParams(new FormData(form)).toString() };
    send(entry).then(function (result) {
      if (result.url) { return location.replace(result.url); }
      // Database down, nothing stored: keep the answers here. Corrections or a rate limit: the server's page explains.
      if (result.status === 503) { return hold(entry, form.getAttribute("data-held")); }
      if (result.back) { return location.replace(result.back); }
      bypass = true;
      form.submit();
    }, function () { hold(entry, form.getAttribute("data-queued")); });
  });
}());
