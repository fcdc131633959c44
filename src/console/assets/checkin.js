// Door check-in: +1 / -1 taps for one site. Every tap gets its own Idempotency-Key and waits
// in a queue kept in localStorage until the server has answered it, so a tap made while the
// connection is down is sent when it returns, and a retry is never counted twice.
(function () {
  "use strict";
  var door = document.getElementById("door");
  if (!door) { return; }
  var d = door.dataset;
  var url = "/console/meetings/" + d.meeting + "/checkins";
  var site = d.site === "online" ? null : d.site;
  var store = "vm-checkin-" + d.meeting + "-" + d.site;
  var present = document.getElementById("present");
  var capacity = document.getElementById("capacity");
  var full = document.getElementById("full");
  var net = document.getElementById("net");
  var queued = document.getElementById("queued");
  var refusal = document.getElementById("refusal");
  var sending = false;
  var offline = false;

  function key() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }
  function load() {
    try { return JSON.parse(localStorage.getItem(store) || "[]"); } catch (e) { return []; }
  }
  function save(q) { localStorage.setItem(store, JSON.stringify(q)); }
  function show(counter) {
    if (counter) {
      present.textContent = counter.present;
      capacity.textContent = counter.capacity;
      full.hidden = counter.present < counter.capacity;
    }
    var q = load();
    queued.textContent = q.length ? q.length + " " + d.queuedWord : "";
    net.textContent = offline ? d.offlineWord : d.connectedWord;
    net.className = offline ? "net offline" : "net";
  }
  function retryLater() {
    offline = true;
    show();
    setTimeout(flush, 1500);
  }
  function flush() {
    if (sending) { return; }
    var q = load();
    if (!q.length) { return; }
    sending = true;
    var tap = q[0];
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Idempotency-Key": tap.key,
        "X-CSRF-Token": d.csrf
      },
      body: JSON.stringify({ site_id: site, count: tap.count })
    }).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try { body = JSON.parse(text); } catch (e) { body = null; }
        return { status: res.status, body: body, signedOut: res.redirected };
      });
    }).then(function (r) {
      sending = false;
      if (r.signedOut || (r.status === 403 && r.body === null)) {
        // The session ended or the page is stale: the taps stay queued until one signs in again.
        refusal.textContent = d.signedOutWord;
        show();
        return;
      }
      if (r.status >= 500 || r.status === 429 || r.body === null) { retryLater(); return; }
      offline = false;
      var rest = load().filter(function (t) { return t.key !== tap.key; });
      save(rest);
      if (r.status === 200) {
        refusal.textContent = "";
        show(r.body);
      } else {
        refusal.textContent = (r.body.code || "") + ": " + (r.body.detail || "");
        show();
        poll();
      }
      flush();
    }, function () {
      sending = false;
      retryLater();
    });
  }
  function tap(count) {
    var q = load();
    q.push({ key: key(), count: count });
    save(q);
    show();
    flush();
  }
  function poll() {
    if (sending || load().length) { return; }
    fetch("/console/meetings/" + d.meeting + "/counters", { credentials: "same-origin" })
      .then(function (res) { return res.json(); })
      .then(function (c) {
        var mine = site === null ? c.online : (c.sites || []).filter(function (s) { return s.site_id === site; })[0];
        offline = false;
        if (mine) { show(mine); }
      }, function () { offline = true; show(); });
  }
  document.getElementById("plus").addEventListener("click", function () { tap(1); });
  document.getElementById("minus").addEventListener("click", function () { tap(-1); });
  window.addEventListener("online", flush);
  setInterval(function () { flush(); poll(); }, 3000);
  show();
  flush();
}());
