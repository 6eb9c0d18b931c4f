// The dashboard's trend chart (Apache ECharts, served locally). Data sits in the element's data-chart.
(function () {
  "use strict";
  var el = document.getElementById("trend");
  if (!el || typeof echarts === "undefined") { return; }
  var data = JSON.parse(el.getAttribute("data-chart") || "{}");
  var chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption({
    animation: false,
    grid: { left: 48, right: 48, top: 24, bottom: 32 }, // room for the target line's "90%" at its end
    tooltip: { trigger: "axis", valueFormatter: function (v) { return v + "%"; } },
    xAxis: { type: "category", data: data.days || [] },
    yAxis: { type: "value", min: 0, max: 100, axisLabel: { formatter: "{value}%" } },
    series: [{
      type: "line", data: data.rates || [], symbolSize: 8, lineStyle: { width: 3 }, itemStyle: { color: "#0b4f8a" },
      markLine: { silent: true, symbol: "none", lineStyle: { type: "dashed", color: "#b45309" },
                  data: [{ yAxis: data.target }], label: { formatter: "{c}%" } }
    }]
  });
  window.addEventListener("resize", function () { chart.resize(); });
})();
