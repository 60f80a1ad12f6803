/* The inspection page's curves: each measured curve against its baseline band (Chart.js, vendored), the points
   outside the band in red. The data comes from console/inspection_chart.py through json_script. */
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const source = document.getElementById("inspection-curves-data");
  if (!source || !window.Chart) return;
  const curves = JSON.parse(source.textContent);
  const css = getComputedStyle(document.documentElement);
  const colour = (name, fallback) => (css.getPropertyValue(name) || "").trim() || fallback;
  const good = colour("--c-good", "#15803d"), bad = colour("--c-bad", "#b91c1c");
  const line = colour("--c-verifying", "#1d4ed8"), band = colour("--c-good-bg", "#dcfce7");
  document.querySelectorAll("canvas[data-curve]").forEach((canvas) => {
    const c = curves[Number(canvas.dataset.curve)];
    const pts = c.points;
    // Points named by size or thread count ("4KiB", "8") sit evenly on a category axis, labelled as measured.
    const labelled = pts.every((p) => p.label);
    const xy = (p, y) => (labelled ? y : { x: p.x, y });
    const datasets = [
      { label: "band low", data: pts.map((p) => xy(p, p.lo)), borderColor: good, borderWidth: 1,
        pointRadius: 0, fill: false, borderDash: [4, 3], order: 2 },
      { label: "baseline band", data: pts.map((p) => xy(p, p.hi)), borderColor: good, borderWidth: 1,
        pointRadius: 0, backgroundColor: band, fill: "-1", borderDash: [4, 3], order: 1 },
      { label: "measured", data: pts.map((p) => xy(p, p.y)), borderColor: line, backgroundColor: line,
        borderWidth: 2.5, tension: 0.2, order: 0,
        pointRadius: pts.map((p) => (p.fail ? 8 : 3)),
        pointBorderWidth: pts.map((p) => (p.fail ? 3 : 1)),
        pointBackgroundColor: pts.map((p) => (p.fail ? bad : line)),
        pointBorderColor: pts.map((p) => (p.fail ? bad : line)),
        pointStyle: pts.map((p) => (p.fail ? "crossRot" : "circle")) },
    ];
    new window.Chart(canvas, {
      type: "line",
      data: labelled ? { labels: pts.map((p) => p.label), datasets } : { datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, parsing: true,
        scales: { x: { type: labelled ? "category" : "linear" }, y: { title: { display: true, text: c.unit } } },
        plugins: { legend: { display: false } },  // the card's legend says it once for every chart
      },
    });
  });
});
