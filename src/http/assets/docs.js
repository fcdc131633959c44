// The API page: the OpenAPI document needs a token like every API route (SPEC §4), so the page
// asks for one, fetches the document with it and hands both to RapiDoc (try-it requests too).
(function () {
  "use strict";
  var form = document.getElementById("token-form");
  var input = document.getElementById("token");
  var status = document.getElementById("status");
  var doc = document.getElementById("doc");

  function load(token) {
    status.textContent = "…";
    fetch("/api/v1/openapi.json", { headers: { Authorization: "Bearer " + token } })
      .then(function (r) {
        if (!r.ok) { throw new Error(r.status === 401 ? "token refused (401)" : "HTTP " + r.status); }
        return r.json();
      })
      .then(function (spec) {
        doc.addEventListener("spec-loaded", function () { doc.setApiKey("bearerAuth", token); }, { once: true });
        doc.loadSpec(spec);
        sessionStorage.setItem("voter-meetings-token", token);
        status.textContent = spec.info.title + " " + spec.info.version;
      })
      .catch(function (e) { status.textContent = e.message; });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (input.value.trim()) { load(input.value.trim()); }
  });
  var kept = sessionStorage.getItem("voter-meetings-token");
  if (kept) { input.value = kept; customElements.whenDefined("rapi-doc").then(function () { load(kept); }); }
})();
