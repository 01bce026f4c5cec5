// Suggestions for filter fields too long for a drop-down (the board's firm and instrument filters at thousands):
// as the reader types, ask the API for matching names and offer them in the field's <datalist>.
(function () {
  "use strict";
  document.querySelectorAll("input[data-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    if (!list) return;
    var timer = null, asked = "";
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (q.length < 2 || q === asked) return;
      timer = setTimeout(function () {
        asked = q;
        var url = input.dataset.suggest + "?limit=10&search=" + encodeURIComponent(q);
        fetch(url, { headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : { results: [] }; })
          .then(function (body) {
            list.replaceChildren();
            (body.results || []).forEach(function (item) {
              var option = document.createElement("option");
              var field = input.dataset.suggestField || "name";
              option.value = item[field];
              if (field !== "name" && item.name) option.label = item.name;
              list.appendChild(option);
            });
          })
          .catch(function () { /* no suggestions: the field still takes a typed name */ });
      }, 200);
    });
  });
})();
