/* madchart: a small dependency-free SVG line chart for the madlake dashboard (no CDN, works from file://).
 *
 * Markup: <figure class="chart" data-chart="ID"></figure> plus <script type="application/json" id="ID">SPEC</script>.
 * SPEC: {"series": [{"name": "...", "points": [[x, y], ...]}], "x": "date" | "number", "log": false,
 *        "invert": false (rank charts: 1 on top), "format": "num" | "pct" | "int" | "float", "xLabel": "...",
 *        "toggleLog": true, "marks": [{"x": "2024-11-01", "label": "..."}]}
 * A point is [x, y] or [x, null, "note"]: null is a gap (the line breaks, never drops to 0); a note (e.g. "< 4,000"
 * below a list's cut-off) shows on hover. Marks draw dashed vertical lines (method changes) with their label.
 * Every series becomes one <path class="series" data-series="NAME">; the figure gets data-series-count, so tests
 * (and people) can check that a chart drew what it was given.
 */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#65a30d",
    "#475569", "#ea580c", "#0d9488", "#9333ea"];
  var DAY = 86400000;

  function svg(tag, attrs, parent) {
    var node = document.createElementNS(NS, tag);
    for (var k in attrs) { if (Object.prototype.hasOwnProperty.call(attrs, k)) { node.setAttribute(k, attrs[k]); } }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function html(tag, cls, parent, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function toX(v, type) {
    if (type === "date") { return Date.parse(String(v).slice(0, 10) + "T00:00:00Z"); }
    return Number(v);
  }

  function fmt(v, kind) {
    if (v === null || v === undefined || isNaN(v)) { return "–"; }
    if (kind === "pct") { return (v * 100).toFixed(Math.abs(v) < 0.1 ? 1 : 0) + "%"; }
    if (kind === "float") { return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2); }
    var a = Math.abs(v);
    if (a >= 1e9) { return (v / 1e9).toFixed(1) + "B"; }
    if (a >= 1e6) { return (v / 1e6).toFixed(1) + "M"; }
    if (a >= 1e4) { return (v / 1e3).toFixed(0) + "k"; }
    if (a >= 1e3) { return (v / 1e3).toFixed(1) + "k"; }
    return kind === "int" ? String(Math.round(v)) : String(Math.round(v * 100) / 100);
  }

  function fmtX(x, type) {
    if (type === "date") { return new Date(x).toISOString().slice(0, 10); }
    return String(Math.round(x));
  }

  function niceTicks(lo, hi, n) {
    if (!(hi > lo)) { return [lo]; }
    var step = Math.pow(10, Math.floor(Math.log10((hi - lo) / n)));
    var err = (hi - lo) / n / step;
    if (err >= 7.5) { step *= 10; } else if (err >= 3.5) { step *= 5; } else if (err >= 1.5) { step *= 2; }
    var out = [];
    for (var t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) { out.push(t); }
    return out;
  }

  function dateTicks(lo, hi) {
    var out = [];
    var d = new Date(lo);
    var span = (hi - lo) / DAY;
    var months = span > 1500 ? 12 : span > 700 ? 6 : span > 240 ? 3 : 1;
    var cur = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    while (cur <= hi) {
      var cd = new Date(cur);
      if (cd.getUTCMonth() % months === 0) { out.push(cur); }
      cur = Date.UTC(cd.getUTCFullYear(), cd.getUTCMonth() + 1, 1);
    }
    return out;
  }

  function render(figure, spec) {
    while (figure.firstChild) { figure.removeChild(figure.firstChild); }
    var series = (spec.series || []).map(function (s, i) {
      var pts = (s.points || []).map(function (p) { return [toX(p[0], spec.x), p[1] === null || p[1] === undefined ? null : Number(p[1]), p[2]]; });
      if (spec.log) { pts = pts.map(function (p) { return [p[0], p[1] !== null && p[1] > 0 ? p[1] : null, p[2]]; }); }
      return { name: s.name, color: s.color || PALETTE[i % PALETTE.length], points: pts };
    });
    var toolbar = html("div", "chart-tools", figure);
    if (spec.toggleLog) {
      var label = html("label", "log-toggle", toolbar);
      var box = html("input", "", label);
      box.type = "checkbox";
      box.checked = !!spec.log;
      label.appendChild(document.createTextNode(" log scale"));
      box.addEventListener("change", function () { spec.log = box.checked; render(figure, spec); });
    }
    var width = Math.max(280, Math.min(figure.clientWidth || 640, 1100));
    var height = spec.height || (width < 500 ? 220 : 260);
    var m = { l: 52, r: 12, t: 10, b: 28 };
    var root = svg("svg", { viewBox: "0 0 " + width + " " + height, width: "100%", role: "img",
      "aria-label": spec.title || figure.getAttribute("aria-label") || "chart", "class": "madchart" }, figure);
    var xs = [], ys = [];
    series.forEach(function (s) { s.points.forEach(function (p) { if (p[1] !== null && !isNaN(p[1])) { xs.push(p[0]); ys.push(p[1]); } }); });
    // the x range is the whole axis the data was given on (gaps included), so 2018 -> now shows even where null
    series.forEach(function (s) { s.points.forEach(function (p) { if (xs.length) { xs.push(p[0]); } }); });
    figure.setAttribute("data-series-count", String(series.length));
    if (!xs.length) {
      svg("text", { x: width / 2, y: height / 2, "text-anchor": "middle", "class": "empty" }, root).textContent = "no data";
      return;
    }
    var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs);
    if (x1 === x0) { x1 = x0 + (spec.x === "date" ? DAY : 1); }
    var y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
    if (!spec.log && !spec.invert && y0 > 0 && spec.zero !== false) { y0 = 0; }
    if (y1 === y0) { y1 = y0 + 1; }
    var f = spec.log ? Math.log10 : function (v) { return v; };
    var fy0 = f(y0), fy1 = f(y1);
    function sx(x) { return m.l + (x - x0) / (x1 - x0) * (width - m.l - m.r); }
    function sy(y) {
      var r = (f(y) - fy0) / (fy1 - fy0 || 1);
      if (spec.invert) { r = 1 - r; }
      return height - m.b - r * (height - m.t - m.b);
    }
    var grid = svg("g", { "class": "grid" }, root);
    var yt = spec.log ? (function () {
      var decades = [], steps = [];
      for (var e = Math.floor(fy0); e <= Math.ceil(fy1); e++) {
        [1, 2, 5].forEach(function (k) {
          var v = k * Math.pow(10, e);
          if (v >= y0 / 1.0001 && v <= y1 * 1.0001) { steps.push(v); if (k === 1) { decades.push(v); } }
        });
      }
      if (decades.length >= 3) { return decades; }
      return steps.length >= 3 ? steps : niceTicks(y0, y1, 4);  // a narrow range: plain ticks, still log-placed
    })() : niceTicks(y0, y1, 5);
    if (spec.invert || spec.format === "int") { yt = yt.filter(function (v) { return Math.abs(v - Math.round(v)) < 1e-9; }); }
    var step = yt.length > 1 ? Math.abs(yt[1] - yt[0]) : 1;
    var decimals = Math.max(0, Math.min(3, -Math.floor(Math.log10(step) + 1e-9)));
    yt.forEach(function (v) {
      svg("line", { x1: m.l, x2: width - m.r, y1: sy(v), y2: sy(v) }, grid);
      var label = spec.format === "float" && !spec.log ? v.toFixed(decimals) : fmt(v, spec.format);
      svg("text", { x: m.l - 6, y: sy(v) + 4, "text-anchor": "end" }, grid).textContent = label;
    });
    var xt = spec.x === "date" ? dateTicks(x0, x1) : niceTicks(x0, x1, 6);
    var every = Math.max(1, Math.ceil(xt.length / Math.max(2, Math.floor(width / 90))));
    xt.forEach(function (v, i) {
      if (i % every) { return; }
      svg("line", { x1: sx(v), x2: sx(v), y1: m.t, y2: height - m.b, "class": "v" }, grid);
      var label = spec.x === "date" ? new Date(v).toISOString().slice(0, 7) : fmt(v, "int");
      svg("text", { x: sx(v), y: height - m.b + 16, "text-anchor": "middle" }, grid).textContent = label;
    });
    (spec.marks || []).forEach(function (mk, i) {
      var mx = toX(mk.x, spec.x);
      if (!(mx >= x0 && mx <= x1)) { return; }
      var g = svg("g", { "class": "mark-group", "data-mark": mk.x }, root);
      svg("line", { x1: sx(mx), x2: sx(mx), y1: m.t, y2: height - m.b, "class": "mark" }, g);
      var t = svg("text", { x: sx(mx) + 3, y: m.t + 9 + (i % 3) * 10, "class": "mark-label" }, g);
      t.textContent = mk.label;
      var title = svg("title", {}, g);
      title.textContent = mk.x.slice(0, 7) + ": " + mk.label;
    });
    if (spec.xLabel) {
      svg("text", { x: width - m.r, y: height - 2, "text-anchor": "end", "class": "axis-label" }, grid).textContent = spec.xLabel;
    }
    series.forEach(function (s) {
      var d = "", pen = false;
      s.points.forEach(function (p) {
        if (p[1] === null || isNaN(p[1])) { pen = false; return; }
        d += (pen ? "L" : "M") + sx(p[0]).toFixed(1) + "," + sy(p[1]).toFixed(1);
        pen = true;
      });
      var path = svg("path", { d: d || "M0,0", "class": "series", "data-series": s.name, stroke: s.color, fill: "none" }, root);
      if (s.points.filter(function (p) { return p[1] !== null; }).length === 1) { path.setAttribute("stroke-linecap", "round"); path.setAttribute("stroke-width", "6"); }
    });
    var legend = html("ul", "legend", figure);
    series.forEach(function (s) {
      var li = html("li", "", legend);
      li.setAttribute("data-series", s.name);
      var sw = html("span", "swatch", li);
      sw.style.background = s.color;
      li.appendChild(document.createTextNode(s.name));
    });
    // Hover: a guide line and the values of every series at the nearest x.
    var guide = svg("line", { y1: m.t, y2: height - m.b, "class": "guide", visibility: "hidden" }, root);
    var tip = html("div", "tip", figure);
    tip.hidden = true;
    function hover(ev) {
      var box = root.getBoundingClientRect();
      var px = (ev.clientX - box.left) / box.width * width;
      var xv = x0 + (px - m.l) / (width - m.l - m.r) * (x1 - x0);
      var best = null;
      series.forEach(function (s) { s.points.forEach(function (p) { if ((p[1] !== null || p[2]) && (best === null || Math.abs(p[0] - xv) < Math.abs(best - xv))) { best = p[0]; } }); });
      if (best === null) { return; }
      guide.setAttribute("x1", sx(best)); guide.setAttribute("x2", sx(best)); guide.setAttribute("visibility", "visible");
      var lines = [fmtX(best, spec.x)];
      series.forEach(function (s) {
        for (var i = 0; i < s.points.length; i++) {
          var p = s.points[i];
          if (p[0] !== best) { continue; }
          if (p[1] !== null) { lines.push(s.name + ": " + fmt(p[1], spec.format)); } else if (p[2]) { lines.push(s.name + ": " + p[2]); }
          break;
        }
      });
      tip.textContent = lines.join("  ·  ");
      tip.hidden = false;
    }
    root.addEventListener("mousemove", hover);
    // phones: a tap or a drag shows the values under the finger
    root.addEventListener("touchstart", function (ev) { if (ev.touches.length) { hover(ev.touches[0]); } }, { passive: true });
    root.addEventListener("touchmove", function (ev) { if (ev.touches.length) { hover(ev.touches[0]); } }, { passive: true });
    root.addEventListener("mouseleave", function () { guide.setAttribute("visibility", "hidden"); tip.hidden = true; });
  }

  function renderAll() {
    var figures = document.querySelectorAll("[data-chart]");
    for (var i = 0; i < figures.length; i++) {
      var fig = figures[i];
      if (!fig._spec) {
        var source = document.getElementById(fig.getAttribute("data-chart"));
        fig._spec = JSON.parse(source.textContent);
      }
      render(fig, fig._spec);
    }
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(renderAll, 150);
  });
  window.MadChart = { render: render, renderAll: renderAll, palette: PALETTE, format: fmt };
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", renderAll); } else { renderAll(); }
})();
