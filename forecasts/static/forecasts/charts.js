/* Hindsight charts: each <canvas data-chart="kind" data-source="json-script-id"> is drawn from its json_script
   data with Chart.js (vendored). Charts are registered in window.hindsightCharts by canvas id for tests. */
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  var css = getComputedStyle(document.documentElement);
  function color(name, fallback) { return (css.getPropertyValue(name) || fallback).trim(); }
  var C = {
    line: color("--chart-line", "#0550ae"), hit: color("--hit", "#116329"), miss: color("--miss", "#a40e26"),
    pending: color("--pending", "#6e5900"), void: color("--void", "#57606a"), muted: color("--muted", "#57606a"),
    window: "rgba(5, 80, 174, 0.08)"
  };
  var lang = document.documentElement.lang || "en";
  var numberFmt = new Intl.NumberFormat(lang, { maximumFractionDigits: 2 });
  window.hindsightCharts = {};

  function read(id) { var el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }
  // The words on the charts come translated from the page (the chart_labels tag, forecasts/_chart_scripts.html).
  var L = Object.assign({
    target: "Target %(value)s", baseline: "Baseline %(value)s", deadline: "Deadline", symbol_close: "%(symbol)s close",
    deciding: "Deciding session", close: "Close", targets: "Targets", open_call: "Open call",
    consensus: "Consensus (track-record weighted)", cumulative_skill: "Cumulative skill", skill_points: "skill points",
    hit: "Hit", miss: "Miss", hit_tick: "hit", miss_tick: "miss", day_format: "d MMM yyyy", month_format: "MMM yyyy"
  }, read("chart-labels") || {});
  function fill(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (m, k) { return values[k] === undefined ? m : values[k]; });
  }
  function statusColor(s) { return C[s] || C.muted; }
  function timeScale(extra) {
    return Object.assign({ type: "time", time: { unit: "month", tooltipFormat: L.day_format, displayFormats: { month: L.month_format } },
      ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } }, extra || {});
  }
  function base(extra) {
    return Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
      interaction: { mode: "nearest", intersect: false } }, extra);
  }

  var builders = {
    forecast: function (d) {
      var ann = {};
      (d.targets || []).forEach(function (t, i) {
        ann["target" + i] = { type: "line", yMin: t, yMax: t, borderColor: statusColor(d.status), borderDash: [6, 4], borderWidth: 2,
          label: { display: true, content: fill(L.target, { value: numberFmt.format(t) }), position: "start", backgroundColor: "rgba(255,255,255,0.85)", color: "#1b1f24" } };
      });
      if (d.baseline) {
        ann.baseline = { type: "line", yMin: d.baseline, yMax: d.baseline, borderColor: C.muted, borderDash: [2, 3], borderWidth: 1,
          label: { display: true, content: fill(L.baseline, { value: numberFmt.format(d.baseline) }), position: "end", backgroundColor: "rgba(255,255,255,0.85)", color: "#1b1f24" } };
      }
      if (d.window_start) {
        ann.window = { type: "box", xMin: d.window_start, xMax: d.window_end || d.deadline, backgroundColor: C.window, borderWidth: 0 };
      }
      if (d.deadline) {
        ann.deadline = { type: "line", xMin: d.deadline, xMax: d.deadline, borderColor: C.muted, borderWidth: 1,
          label: { display: true, content: L.deadline, position: "start", backgroundColor: "rgba(255,255,255,0.85)", color: "#1b1f24" } };
      }
      var datasets = [{ label: fill(L.symbol_close, { symbol: d.name || d.symbol }), data: d.prices.map(function (p) { return { x: p[0], y: p[1] }; }),
        borderColor: C.line, borderWidth: 1.5, pointRadius: 0, tension: 0 }];
      if (d.resolved_on && d.resolution_price) {
        datasets.push({ type: "scatter", label: L.deciding, data: [{ x: d.resolved_on, y: d.resolution_price }],
          pointRadius: 7, pointStyle: "rectRot", backgroundColor: statusColor(d.status), borderColor: "#fff" });
      }
      return { type: "line", data: { datasets: datasets },
        options: base({ scales: { x: timeScale(), y: { ticks: { callback: function (v) { return numberFmt.format(v); } } } },
          plugins: { legend: { display: true }, annotation: { annotations: ann } } }) };
    },
    instrument: function (d) {
      var datasets = [{ label: L.close, data: d.prices.map(function (p) { return { x: p[0], y: p[1] }; }),
        borderColor: C.line, borderWidth: 1.5, pointRadius: 0, order: 2 }];
      datasets.push({ type: "scatter", label: L.targets, order: 1, data: d.targets.map(function (t) { return { x: t.x, y: t.y, who: t.who, id: t.id }; }),
        pointRadius: 6, backgroundColor: d.targets.map(function (t) { return statusColor(t.status); }), borderColor: "#fff" });
      // What strategists expect now: each open call from the day it was made to its deadline, the darker
      // the better its author's record (its consensus weight); the consensus at each month-end, dashed.
      (d.calls || []).forEach(function (c) {
        var alpha = Math.max(0.25, Math.min(1, (c.weight - 0.1) / 1.9));
        datasets.push({ label: L.open_call, callOf: c.who, order: 3, data: [{ x: c.from, y: c.y, who: c.who, id: c.id }, { x: c.to, y: c.y, who: c.who, id: c.id }],
          borderColor: "rgba(154, 103, 0, " + alpha.toFixed(2) + ")", borderWidth: 2, pointRadius: 0, fill: false });
      });
      if (d.consensus && d.consensus.length) {
        datasets.push({ label: L.consensus, order: 0, data: d.consensus.map(function (p) { return { x: p.x, y: p.weighted }; }),
          borderColor: C.muted, borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0, stepped: true });
      }
      return { type: "line", data: { datasets: datasets },
        options: base({ scales: { x: timeScale(), y: { ticks: { callback: function (v) { return numberFmt.format(v); } } } },
          onClick: function (evt, els, chart) {
            var hit = els.filter(function (e) { return e.datasetIndex === 1; })[0];
            if (hit) { window.location = "/forecasts/" + chart.data.datasets[1].data[hit.index].id + "/"; }
          },
          plugins: { legend: { labels: { filter: function (item, data) { return !data.datasets[item.datasetIndex].callOf || item.datasetIndex === data.datasets.findIndex(function (x) { return x.callOf; }); } } },
            tooltip: { callbacks: { label: function (ctx) {
            var r = ctx.raw; return r.who ? r.who + ": " + numberFmt.format(r.y) : numberFmt.format(r.y);
          } } } } }) };
    },
    skill: function (d) {
      return { type: "line", data: { datasets: [{ label: L.cumulative_skill, data: d, stepped: true, borderColor: C.line,
        pointBackgroundColor: d.map(function (p) { return statusColor(p.status); }), pointRadius: 4 }] },
        options: base({ scales: { x: timeScale(), y: { title: { display: true, text: L.skill_points } } },
          plugins: { legend: { display: false }, annotation: { annotations: { zero: { type: "line", yMin: 0, yMax: 0, borderColor: C.muted, borderWidth: 1 } } } } }) };
    },
    difficulty: function (d, labels) {
      var jitter = function (p, i) { return { x: p.x, y: p.y + ((i % 5) - 2) * 0.03, id: p.id }; };
      return { type: "scatter", data: { datasets: [
        { label: L.hit, data: d.filter(function (p) { return p.y === 1; }).map(jitter), backgroundColor: C.hit, pointRadius: 6 },
        { label: L.miss, data: d.filter(function (p) { return p.y === 0; }).map(jitter), backgroundColor: C.miss, pointRadius: 6 }
      ] }, options: base({ scales: {
        x: { min: 0, max: 1, title: { display: true, text: labels.xLabel || "chance by luck (of coming true at random): left bold, right safe" },
          ticks: { callback: function (v) { return Math.round(v * 100) + "%"; } } },
        y: { min: -0.3, max: 1.3, ticks: { stepSize: 1, callback: function (v) { return v === 1 ? L.hit_tick : v === 0 ? L.miss_tick : ""; } } } },
        plugins: { legend: { display: true } } }) };
    }
  };

  function draw() {
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var data = read(canvas.dataset.source), build = builders[canvas.dataset.chart];
      if (!data || !build) { return; }
      window.hindsightCharts[canvas.id] = new Chart(canvas, build(data, canvas.dataset));
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
