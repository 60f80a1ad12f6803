/* DAM console: small behaviours shared by the admin pages. The timeline's kind chips show or hide its rows. */
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-timeline-filter]").forEach((box) => {
    const list = document.getElementById(box.dataset.timelineFilter);
    const apply = () => {
      const shown = new Set([...box.querySelectorAll("input:checked")].map((i) => i.value));
      list.querySelectorAll("li[data-kind]").forEach((li) => li.classList.toggle("hidden", !shown.has(li.dataset.kind)));
    };
    box.addEventListener("change", apply);
    apply();
  });
});
