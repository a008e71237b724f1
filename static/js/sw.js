/* SIPAS service worker (/s/): caches the survey page and assets for offline reloads; holds submissions
   the page could not deliver in IndexedDB and sends them on Background Sync, a survey page load or a
   page's "flush", with their own submission id (stored once by the server). 429/5xx: try later.
   The survey pages also load this file as a plain script, for sipasSend alone: the one POST both use. */
"use strict";
// One attempt at entry {url, body}: {url} once stored, {status} to try later (429, 5xx), {back: page} (the page
// it was sent back to) or {} for answers to correct; rejects when offline. A 400 whose page carries a fresh
// token (<meta name="csrf-token">, the session expired meanwhile) is retried once with it.
var sipasSend = function send(entry, retried) {
  return fetch(entry.url, { method: "POST", body: new URLSearchParams(entry.body), credentials: "same-origin" }).then(function (res) {
    if (res.ok && res.redirected) { return { url: res.url }; }
    if (res.status === 429 || res.status >= 500) { return { status: res.status }; }
    if (res.redirected) { return { back: res.url }; }
    return res.text().then(function (html) {
      var fresh = /<meta name="csrf-token" content="([^"]+)"/.exec(html), body = new URLSearchParams(entry.body);
      if (res.status !== 400 || !fresh || retried) { return {}; }
      body.set("csrf_token", fresh[1]);
      entry.body = body.toString();
      return send(entry, true);
    });
  });
};
if (!self.document) { (function () {
var CACHE = "sipas-1", running = null;
function noop() {}
function tx(mode, fn) {  // fn(store) in one transaction; resolves with its request's result once committed
  return new Promise(function (ok, fail) {
    var open = indexedDB.open("sipas", 1);
    open.onupgradeneeded = function () { open.result.createObjectStore("queue", { keyPath: "id" }); };
    open.onerror = function () { fail(open.error); };
    open.onsuccess = function () {
      var t = open.result.transaction("queue", mode), req = fn(t.objectStore("queue"));
      t.oncomplete = function () { open.result.close(); ok(req && req.result); };
      t.onerror = t.onabort = function () { fail(t.error); };
    };
  });
}
function put(e, state) { e.state = state; e.t = Date.now(); return tx("readwrite", function (s) { return s.put(e); }); }
function all() { return tx("readonly", function (s) { return s.getAll(); }); }
function tell(msg) {
  return self.clients.matchAll().then(function (list) { list.forEach(function (c) { c.postMessage(msg); }); });
}

// Settles e: "sent" (the answers are then forgotten) or "fix" for the page to correct; rejects to try later.
function send(e) {
  return sipasSend(e).then(function (r) {
    if (r.url) { return put({ id: e.id, url: e.url }, "sent").then(function () { return tell({ id: e.id, url: r.url }); }); }
    if (r.status) { throw new Error("later"); }
    return put(e, "fix").then(function () { return tell({}); });
  });
}
function flush() {
  running = running || all().then(function (list) {
    return list.reduce(function (chain, e) { return e.state ? chain : chain.then(function () { return send(e); }); }, Promise.resolve());
  });
  running.then(function () { running = null; }, function () { running = null; });
  return running;
}
function hello(path) {  // a page's entries; answers to correct are handed over once, day-old "sent" dropped
  return all().then(function (list) {
    var mine = list.filter(function (e) { return new URL(e.url).pathname === path; });
    return tx("readwrite", function (s) {
      list.forEach(function (e) {
        if ((e.state === "fix" && mine.indexOf(e) >= 0) || (e.state === "sent" && Date.now() - e.t > 864e5)) { s.delete(e.id); }
      });
    }).then(function () { return mine; });
  });
}

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) { return c.addAll(["/static/css/sipas.css", "/static/js/survey.js", "/sw.js"]); })
    .then(function () { return self.skipWaiting(); }));
});
self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.map(function (k) { return k === CACHE || caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});
self.addEventListener("fetch", function (event) {
  var req = event.request, url = new URL(req.url), net;
  if (req.method !== "GET" || url.origin !== location.origin) { return; }
  if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/sw.js") {  // cached copy at once, refreshed for next time
    net = fetch(req).then(function (res) {
      var copy = res.clone();
      if (res.ok) { caches.open(CACHE).then(function (c) { return c.put(req, copy); }); }
      return res;
    });
    event.waitUntil(net.catch(noop));
    event.respondWith(caches.match(req).then(function (hit) { return hit || net; }));
  } else if (req.mode === "navigate" && /^\/s\/[^/]+$/.test(url.pathname)) {  // network first, else last copy
    event.waitUntil(flush().catch(noop));
    event.respondWith(fetch(req).then(function (res) {
      var copy = res.clone();
      if (res.status === 200) { caches.open(CACHE).then(function (c) { return c.put(req, copy); }); }
      return res;
    }, function () {
      return caches.match(req).then(function (hit) { return hit || caches.match(req, { ignoreSearch: true }); })
        .then(function (hit) { return hit || Response.error(); });
    }));
  }
});
self.addEventListener("sync", function (event) { event.waitUntil(flush()); });
self.addEventListener("message", function (event) {
  var msg = event.data, port = event.ports[0] || { postMessage: noop };
  if (msg.type === "queue") {
    event.waitUntil(put(msg.entry, "").then(function () {
      port.postMessage(true);
      return self.registration.sync && self.registration.sync.register("flush");  // retried even once the page is closed
    }, function () { port.postMessage(false); }).catch(noop));
  } else if (msg.type === "hello") {
    event.waitUntil(Promise.all([
      hello(msg.path).then(function (v) { port.postMessage(v); }, function () { port.postMessage(null); }),
      caches.open(CACHE).then(function (c) {  // a copy of the page its worker came after, for reloads offline
        return c.match(msg.url).then(function (hit) { return hit || c.add(msg.url); });
      }).catch(noop)
    ]));
  } else {
    event.waitUntil(flush().catch(noop));
  }
});
}()); }
