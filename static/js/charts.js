// Lead Workshop's charts: drawn from numbers the page carries as JSON (json_script);
// the table next to each chart holds the same numbers for screen readers and for
// readers without script. Redrawn after htmx swaps.
"use strict";

(() => {
  const COLOURS = ["#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad"];

  const config = (spec) => ({
    type: spec.type,
    data: {
      labels: spec.labels,
      datasets: spec.datasets.map((set, i) => ({
        label: set.label,
        data: set.data,
        borderColor: COLOURS[i % COLOURS.length],
        backgroundColor: COLOURS[i % COLOURS.length],
        pointRadius: set.radius ?? 3,
        spanGaps: true,
      })),
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: {
        y: { min: 0, max: spec.max ?? undefined, title: { display: !!spec.y, text: spec.y } },
        x: { title: { display: !!spec.x, text: spec.x } },
      },
      plugins: { legend: { position: "bottom" } },
    },
  });

  const draw = (root) => {
    if (typeof Chart === "undefined" || !root?.querySelectorAll) return;
    root.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      Chart.getChart(canvas)?.destroy();
      new Chart(canvas, config(JSON.parse(source.textContent)));
    });
  };

  document.addEventListener("DOMContentLoaded", () => draw(document));
  document.addEventListener("htmx:afterSwap", (event) => draw(event.detail.target));
})();
