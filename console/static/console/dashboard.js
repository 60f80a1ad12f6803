/* The fleet dashboard: draws the server's numbers with Chart.js (vendored, served locally), then keeps the live
   counts fresh by polling JSON every few seconds, and every figure every minute, without reloading the page. */
"use strict";

(() => {
  const LIVE_MS = 5000;
  const FULL_MS = 60000;
  // The states in the lifecycle's order with their labels and colours, from the server (assets/choices.py).
  let STATES = [];
  let LOOK = {};
  const charts = {};

  function setText(key, value) {
    document.querySelectorAll(`[data-live="${key}"]`).forEach((el) => {
      el.textContent = value === null || value === undefined ? "—" : value;
    });
  }

  function statesChart(live) {
    const states = STATES.filter((s) => live.by_state[s.value] > 0 || s.always);
    return {
      labels: states.map((s) => s.label),
      datasets: [{ data: states.map((s) => live.by_state[s.value] || 0), backgroundColor: states.map((s) => s.colour) }],
    };
  }

  function poolsChart(live) {
    const states = STATES.filter((s) => live.pools.some((p) => p.states[s.value] > 0));
    return {
      labels: live.pools.map((p) => p.pool),
      datasets: states.map((s) => ({ label: s.label, data: live.pools.map((p) => p.states[s.value] || 0),
                                     backgroundColor: s.colour })),
    };
  }

  function draw(id, type, data, options) {
    const canvas = document.getElementById(id);
    if (!canvas || !window.Chart) return;
    if (charts[id]) {
      charts[id].data = data;
      charts[id].update("none");
      return;
    }
    charts[id] = new window.Chart(canvas, {
      type, data,
      options: Object.assign({ responsive: true, maintainAspectRatio: false, animation: false,
                               plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } }, options || {}),
    });
  }

  function drawLive(live) {
    setText("total", live.total.toLocaleString());
    setText("available_pct", live.available_pct);
    setText("out_of_service", live.out_of_service.toLocaleString());
    setText("pending_approval", live.pending_approval);
    setText("tickets.overdue", live.tickets.overdue);
    setText("tickets.open", live.tickets.open);
    setText("tickets.unassigned", live.tickets.unassigned);
    const at = document.getElementById("live-at");
    if (at) { at.dateTime = live.at; at.textContent = new Date(live.at).toLocaleTimeString(); }
    draw("chart-states", "doughnut", statesChart(live), { cutout: "55%", plugins: { legend: { position: "right" } } });
    draw("chart-pools", "bar", poolsChart(live), {
      indexAxis: "y", scales: { x: { stacked: true, title: { display: true, text: "machines" } }, y: { stacked: true } },
    });
  }

  function rateBars(id, rows, label) {
    const top = rows.slice(0, 10);
    draw(id, "bar", {
      labels: top.map((r) => r.name),
      datasets: [{ label, data: top.map((r) => r.rate), backgroundColor: LOOK.in_repair.colour }],
    }, {
      indexAxis: "y", plugins: { legend: { display: false },
        tooltip: { callbacks: { afterLabel: (ctx) => `${top[ctx.dataIndex].incidents} incidents on ${top[ctx.dataIndex].machines} machines` } } },
      scales: { x: { beginAtZero: true, title: { display: true, text: "incidents per 100 machines" } } },
    });
  }

  function drawFull(data) {
    drawLive(data.live);
    draw("chart-per-day", "bar", {
      labels: data.per_day.days.map((d) => d.slice(5)),
      datasets: [
        { label: "isolations", data: data.per_day.isolations, backgroundColor: LOOK.isolated.colour, order: 2 },
        { label: "returns (passed verification)", data: data.per_day.returns,
          backgroundColor: LOOK.returned.colour, order: 1 },
      ],
    }, { scales: { y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "machines" } } } });
    rateBars("chart-models", data.failure_rates.by_model, "incidents per 100 machines");
    rateBars("chart-vendors", data.failure_rates.by_vendor, "incidents per 100 machines");
    const comps = data.failure_rates.by_component;
    draw("chart-components", "bar", {
      labels: comps.map((r) => r.name),
      datasets: [{ label: "incidents", data: comps.map((r) => r.incidents), backgroundColor: LOOK.verifying.colour }],
    }, { plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } });
    const ttr = data.time_to_repair;
    const ftf = data.first_time_fix;
    const put = (id, v) => { const el = document.getElementById(id); if (el) el.textContent = v; };
    put("mttr", ttr.mean_hours === null ? "—" : `${ttr.mean_hours} h`);
    put("mttr-median", ttr.median_hours === null ? "—" : ttr.median_hours);
    put("mttr-n", ttr.repairs);
    put("ftf", ftf.rate_pct === null ? "—" : `${ftf.rate_pct} %`);
    put("ftf-first", ftf.first_time);
    put("ftf-closed", ftf.closed);
  }

  async function poll(url, onData) {
    const dot = document.getElementById("live-dot");
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok || !(response.headers.get("content-type") || "").includes("json")) throw new Error(response.status);
      onData(await response.json());
      if (dot) dot.classList.remove("stale");
    } catch (error) {
      if (dot) dot.classList.add("stale");  // logged out or server away: keep the last picture, mark it stale
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = document.getElementById("content-main");
    STATES = JSON.parse(document.getElementById("asset-states").textContent);
    LOOK = Object.fromEntries(STATES.map((s) => [s.value, s]));
    drawFull(JSON.parse(document.getElementById("dashboard-data").textContent));
    setInterval(() => poll(root.dataset.liveUrl, drawLive), LIVE_MS);
    setInterval(() => poll(root.dataset.fullUrl, drawFull), FULL_MS);
    document.body.dataset.dashboardReady = "1";
  });
})();
