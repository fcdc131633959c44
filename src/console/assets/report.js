// Attendance report: checks as one types that the sites and online add up to the total.
// The server checks it again through the same use case as the API.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var total = form.querySelector("[name=attendees]");
  var parts = form.querySelectorAll("[data-part]");
  var out = document.getElementById("sums");
  function check() {
    var sum = 0;
    Array.prototype.forEach.call(parts, function (p) { sum += parseInt(p.value || "0", 10) || 0; });
    var t = parseInt(total.value || "0", 10) || 0;
    var ok = sum === t;
    out.textContent = (ok ? form.dataset.ok : form.dataset.bad) + " (" + sum + " / " + t + ")";
    out.className = ok ? "ok" : "error";
  }
  form.addEventListener("input", check);
  check();
}());
