/* SIPAS survey: progressive enhancement only; the form works without it.
   - progress indicator; - answers kept in localStorage across reloads (cleared on the thank-you page);
   - offline queue: a submission that cannot reach the server is kept and sent when the connection
     returns, with the same submission id (the server stores it once). */
(function () {
  "use strict";
  var QUEUE = "sipas:queue", DRAFT = "sipas:draft:", DAY = 864e5;
  var store = null;
  try { store = window.localStorage; store.setItem("sipas:t", "1"); store.removeItem("sipas:t"); } catch (e) { store = null; }

  function load(key, fallback) {
    try { var v = store && store.getItem(key); return v ? JSON.parse(v) : fallback; } catch (e) { return fallback; }
  }
  function save(key, value) {
    try { if (store) { store.setItem(key, JSON.stringify(value)); } } catch (e) { /* full or private mode */ }
  }
  function drop(key) { if (store) { store.removeItem(key); } }

  var thanks = document.getElementById("thanks");
  if (thanks) { drop(DRAFT + thanks.getAttribute("data-survey")); }

  var form = document.getElementById("survey");
  var draftKey = DRAFT + location.pathname;
  var status = document.getElementById("status");
  var bypass = false, flushing = false;

  function say(text) { if (status) { status.textContent = text; status.scrollIntoView({ block: "center" }); } }

  function values() {
    var out = {};
    new FormData(form).forEach(function (v, k) { if (k !== "csrf_token" && k !== "website") { out[k] = v; } });
    return out;
  }

  function restore(v) {
    Object.keys(v).forEach(function (name) {
      var els = form.elements[name];
      if (!els) { return; }
      if (els.length && els[0] && els[0].type === "radio") {
        Array.prototype.forEach.call(els, function (r) { r.checked = r.value === v[name]; });
      } else if (els.type === "checkbox") {
        els.checked = true;
      } else if (els.type !== "radio") {
        els.value = v[name];
      }
    });
  }

  // Send one queued submission. Resolves to true when it is stored (or can never be), false to retry later.
  function send(entry, retried) {
    return fetch(entry.url, {
      method: "POST", body: new URLSearchParams(entry.body), credentials: "same-origin", redirect: "follow"
    }).then(function (res) {
      if (res.ok && res.redirected) { return { done: true, url: res.url }; }
      if (res.status === 429 || res.status >= 500) { return { done: false }; }
      return res.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.querySelector("input[name=csrf_token]");
        if (res.status === 400 && fresh && !retried) {
          // The session (and its CSRF token) expired while offline: take the new token and try once more.
          var body = new URLSearchParams(entry.body);
          body.set("csrf_token", fresh.value);
          entry.body = body.toString();
          return send(entry, true);
        }
        // The server wants corrections (422, 409): keep the answers as the page's draft.
        var kept = {};
        new URLSearchParams(entry.body).forEach(function (v, k) { if (k !== "csrf_token") { kept[k] = v; } });
        save(DRAFT + new URL(entry.url).pathname, { t: Date.now(), v: kept });
        return { done: true, fix: true, url: entry.url };
      });
    });
  }

  function flush() {
    var queue = load(QUEUE, []);
    if (flushing || !queue.length || navigator.onLine === false) { return; }
    flushing = true;
    var entry = queue[0];
    if (form && entry.url === form.action) { say(form.getAttribute("data-sending")); }
    send(entry).then(function (result) {
      flushing = false;
      if (!result.done) { return; }
      save(QUEUE, load(QUEUE, []).filter(function (e) { return e.id !== entry.id; }));
      if (form && entry.url === form.action) {
        if (result.fix) { restore(load(draftKey, { v: {} }).v); bypass = true; form.submit(); return; }
        location.replace(result.url);
        return;
      }
      flush();
    }, function () { flushing = false; });
  }

  window.addEventListener("online", flush);
  window.setInterval(flush, 30000);
  flush();

  if (!form) { return; }

  var groups = form.querySelectorAll("fieldset.scale");
  var bar = document.createElement("div");
  bar.className = "prog";
  bar.innerHTML = "<span></span><progress max=\"" + groups.length + "\"></progress>";
  bar.lastChild.setAttribute("aria-hidden", "true");
  form.insertBefore(bar, form.firstChild);

  function progress() {
    var done = 0;
    Array.prototype.forEach.call(groups, function (g) { if (g.querySelector("input:checked")) { done += 1; } });
    bar.firstChild.textContent = form.getAttribute("data-progress")
      .replace("{done}", done).replace("{total}", groups.length);
    bar.lastChild.value = done;
  }

  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }

  // Server-side errors mean the page already shows what was posted: keep it, do not restore an old draft.
  var draft = load(draftKey, null);
  if (draft && !document.querySelector(".error-summary") && Date.now() - draft.t < DAY) { restore(draft.v); }
  progress();

  function remember() { save(draftKey, { t: Date.now(), v: values() }); progress(); }
  form.addEventListener("change", remember);
  form.addEventListener("input", remember);

  form.addEventListener("submit", function (event) {
    if (bypass || !window.fetch || !store) { return; }
    event.preventDefault();
    remember();
    var entry = { id: form.elements.submission_id.value, url: form.action, body: new URLSearchParams(new FormData(form)).toString() };
    send(entry).then(function (result) {
      if (result.done && !result.fix) { location.replace(result.url); return; }
      // Anything else (errors to correct, rate limit, server trouble): let the browser post it normally.
      bypass = true;
      form.submit();
    }, function () {
      // No connection: queue it (one entry per submission id) and send it when we are back online.
      save(QUEUE, load(QUEUE, []).filter(function (e) { return e.id !== entry.id; }).concat([entry]));
      say(form.getAttribute("data-queued"));
    });
  });
}());
