// A meeting's page: its counters follow the doors' check-ins, every few seconds.
(function () {
  "use strict";
  var table = document.getElementById("sites");
  if (!table || !table.dataset.meeting) { return; }
  function put(key, counter) {
    var p = table.querySelector("[data-present='" + key + "']");
    var a = table.querySelector("[data-admitted='" + key + "']");
    if (p && counter) { p.textContent = counter.present; }
    if (a && counter) { a.textContent = counter.admitted; }
  }
  function poll() {
    fetch("/console/meetings/" + table.dataset.meeting + "/counters", { credentials: "same-origin" })
      .then(function (res) { return res.json(); })
      .then(function (c) {
        (c.sites || []).forEach(function (s) { put(s.site_id, s); });
        put("online", c.online);
      }, function () {});
  }
  setInterval(poll, 5000);
}());
