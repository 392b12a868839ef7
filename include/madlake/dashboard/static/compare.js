/* Compare 2-5 tools on one signal, from the JSON embedded in compare.html (no network: works from file://).
 * State lives in the URL hash (#tools=a,b&signal=score&log=1&align=1), so a comparison can be linked and bookmarked.
 * A hash naming an unknown signal or tool says so in #compare-error (and falls back to the default) instead of
 * drawing nothing. Series are monthly over the whole history; null months are gaps.
 */
(function () {
  "use strict";
  var MAX = 5, MIN = 2;
  var data = JSON.parse(document.getElementById("compare-data").textContent);
  var byId = {};
  data.tools.forEach(function (t) { byId[t.id] = t; });
  var list = document.getElementById("tool-list");
  var filter = document.getElementById("tool-filter");
  var signal = document.getElementById("signal");
  var logBox = document.getElementById("log");
  var alignBox = document.getElementById("align");
  var status = document.getElementById("compare-status");
  var errorBox = document.getElementById("compare-error");
  var figure = document.getElementById("compare-chart");
  var SIGNALS = data.signal_order;
  var FORMATS = { score: "float", downloads_share: "pct", mentions: "int" };
  var WITH_MARKS = { score: true, downloads_per_day: true, downloads_share: true };

  function readHash() {
    var state = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) {
        try { state[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1)); } catch (e) { /* malformed escape: ignored */ }
      }
    });
    return state;
  }

  function showErrors(messages) {
    errorBox.textContent = messages.join(" ");
    errorBox.hidden = messages.length === 0;
  }

  function applyState(state) {
    var problems = [];
    if (state.signal !== undefined) {
      if (SIGNALS.indexOf(state.signal) >= 0) {
        signal.value = state.signal;
      } else {
        signal.value = SIGNALS[0];
        problems.push("Unknown signal \u201c" + state.signal + "\u201d in the link; showing " + data.signals[SIGNALS[0]] +
          " instead. Known signals: " + SIGNALS.join(", ") + ".");
      }
    }
    var wanted = (state.tools === undefined ? data.default_tools.join(",") : state.tools).split(",").filter(function (x) { return x; });
    var unknown = wanted.filter(function (id) { return !byId[id]; });
    if (unknown.length) { problems.push("Unknown tool" + (unknown.length > 1 ? "s" : "") + " ignored: " + unknown.join(", ") + "."); }
    var ids = wanted.filter(function (id) { return byId[id]; }).slice(0, MAX);
    var boxes = list.querySelectorAll("input[type=checkbox]");
    for (var i = 0; i < boxes.length; i++) { boxes[i].checked = ids.indexOf(boxes[i].value) >= 0; }
    logBox.checked = state.log === "1";
    alignBox.checked = state.align === "1";
    showErrors(problems);
  }

  function selected() {
    var out = [];
    var boxes = list.querySelectorAll("input[type=checkbox]");
    for (var i = 0; i < boxes.length; i++) { if (boxes[i].checked) { out.push(boxes[i].value); } }
    return out;
  }

  function monthIndex(iso) { return Number(iso.slice(0, 4)) * 12 + Number(iso.slice(5, 7)) - 1; }

  function draw() {
    var ids = selected();
    var boxes = list.querySelectorAll("input[type=checkbox]");
    for (var i = 0; i < boxes.length; i++) { boxes[i].disabled = !boxes[i].checked && ids.length >= MAX; }
    var hash = "tools=" + ids.join(",") + "&signal=" + signal.value + (logBox.checked ? "&log=1" : "") + (alignBox.checked ? "&align=1" : "");
    if (history.replaceState) { history.replaceState(null, "", "#" + hash); }
    if (ids.length < MIN) {
      status.textContent = "Pick " + MIN + " to " + MAX + " tools (" + ids.length + " picked).";
    } else {
      status.textContent = ids.length + " tools \u00b7 " + signal.options[signal.selectedIndex].text + (alignBox.checked ? " \u00b7 months since first release" : "");
    }
    var align = alignBox.checked;
    var series = ids.map(function (id) {
      var values = (data.series[id] || {})[signal.value] || [];
      var first = data.first_release[id];
      var start = first ? monthIndex(first) : null;
      var points = [];
      for (var k = 0; k < data.months.length; k++) {
        var v = k < values.length ? values[k] : null;
        if (align) {
          if (start === null) { continue; }
          var n = monthIndex(data.months[k]) - start;
          if (n >= 0) { points.push([n, v]); }
        } else {
          points.push([data.months[k], v]);
        }
      }
      return { name: (byId[id] || { name: id }).name, points: points };
    });
    window.MadChart.render(figure, {
      series: ids.length >= MIN ? series : [],
      x: align ? "number" : "date",
      log: logBox.checked,
      format: FORMATS[signal.value] || "num",
      xLabel: align ? "months since first release" : "",
      marks: !align && WITH_MARKS[signal.value] ? data.marks : [],
      zero: signal.value !== "score",
      title: "compare"
    });
  }

  function build() {
    data.tools.forEach(function (t) {
      var label = document.createElement("label");
      label.setAttribute("data-tool", t.id);
      var box = document.createElement("input");
      box.type = "checkbox";
      box.value = t.id;
      box.addEventListener("change", draw);
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + t.name));
      var cat = document.createElement("small");
      cat.textContent = " " + t.category;
      label.appendChild(cat);
      list.appendChild(label);
    });
    applyState(readHash());
    [signal, logBox, alignBox].forEach(function (c) { c.addEventListener("change", function () { showErrors([]); draw(); }); });
    filter.addEventListener("input", function () {
      var q = filter.value.toLowerCase();
      var labels = list.querySelectorAll("label");
      for (var i = 0; i < labels.length; i++) {
        labels[i].hidden = q && labels[i].textContent.toLowerCase().indexOf(q) < 0;
      }
    });
    window.addEventListener("hashchange", function () { applyState(readHash()); draw(); });
    draw();
  }

  build();
})();
