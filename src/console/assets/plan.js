// Plan or change a meeting: shows the effective capacity of the chosen venue at the chosen
// time while one types (the same use case as GET /venues/{id}/capacity).
(function () {
  "use strict";
  var form = document.getElementById("plan-form");
  if (!form) { return; }
  var out = document.getElementById("live-capacity");
  var timer = null;
  function field(name) { return form.querySelector("[name=" + name + "]"); }
  function ask() {
    var venue = field("venue_id").value, starts = field("starts_at").value, ends = field("ends_at").value;
    if (!venue || !starts || !ends) { out.textContent = ""; return; }
    var q = new URLSearchParams({ venue_id: venue, starts_at: starts, ends_at: ends, election_id: field("election_id").value });
    fetch("/console/capacity?" + q.toString(), { credentials: "same-origin" })
      .then(function (res) { return res.json(); })
      .then(function (c) {
        if (c.effective_capacity === undefined) { out.textContent = c.detail || ""; return; }
        var text = form.dataset.capacityWord + ": " + c.effective_capacity + " / " + c.capacity;
        if (c.binding_rule) { text += " — " + form.dataset.ruleWord + ": " + c.binding_rule; }
        if (!c.in_person_allowed) { text += " — " + form.dataset.bannedWord; }
        out.textContent = text;
      }, function () { out.textContent = ""; });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(ask, 250); });
  form.addEventListener("change", ask);
  ask();
}());
