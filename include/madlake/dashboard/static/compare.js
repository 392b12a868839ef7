/* Compare 2-5 tools on one signal, from the JSON embedded in compare.html (no network: works from file://).
 * State lives in the URL hash (#tools=a,b&signal=score&log=1&align=1), so a comparison can be linked and bookmarked.
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
  var figure = document.getElementById("compare-chart");

  function readHash() {
    var state = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) { state[decodeURIComponent(kv.slice(0, i))] = decodeURIComponent(kv.slice(i + 1)); }
    });
    return state;
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
      status.textContent = ids.length + " tools · " + signal.options[signal.selectedIndex].text + (alignBox.checked ? " · months since first release" : "");
    }
    var align = alignBox.checked;
    var series = ids.map(function (id) {
      var s = data.series[id] || { month: [] };
      var values = s[signal.value] || [];
      var first = data.first_release[id];
      var start = first ? monthIndex(first) : null;
      var points = [];
      for (var k = 0; k < s.month.length; k++) {
        if (align) {
          if (start === null) { continue; }
          var n = monthIndex(s.month[k]) - start;
          if (n >= 0) { points.push([n, values[k]]); }
        } else {
          points.push([s.month[k], values[k]]);
        }
      }
      return { name: (byId[id] || { name: id }).name, points: points };
    });
    window.MadChart.render(figure, {
      series: ids.length >= MIN ? series : [],
      x: align ? "number" : "date",
      log: logBox.checked,
      format: signal.value === "score" ? "float" : "num",
      xLabel: align ? "months since first release" : "",
      title: "compare"
    });
  }

  function build() {
    var state = readHash();
    var wanted = (state.tools || data.default_tools.join(",")).split(",").filter(function (id) { return byId[id]; }).slice(0, MAX);
    data.tools.forEach(function (t) {
      var label = document.createElement("label");
      label.setAttribute("data-tool", t.id);
      var box = document.createElement("input");
      box.type = "checkbox";
      box.value = t.id;
      box.checked = wanted.indexOf(t.id) >= 0;
      box.addEventListener("change", draw);
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + t.name));
      var cat = document.createElement("small");
      cat.textContent = " " + t.category;
      label.appendChild(cat);
      list.appendChild(label);
    });
    if (state.signal) { signal.value = state.signal; }
    logBox.checked = state.log === "1";
    alignBox.checked = state.align === "1";
    [signal, logBox, alignBox].forEach(function (c) { c.addEventListener("change", draw); });
    filter.addEventListener("input", function () {
      var q = filter.value.toLowerCase();
      var labels = list.querySelectorAll("label");
      for (var i = 0; i < labels.length; i++) {
        labels[i].hidden = q && labels[i].textContent.toLowerCase().indexOf(q) < 0;
      }
    });
    window.addEventListener("hashchange", function () {
      var st = readHash();
      var ids = (st.tools || "").split(",");
      var boxes = list.querySelectorAll("input[type=checkbox]");
      for (var i = 0; i < boxes.length; i++) { boxes[i].checked = ids.indexOf(boxes[i].value) >= 0; }
      if (st.signal) { signal.value = st.signal; }
      logBox.checked = st.log === "1";
      alignBox.checked = st.align === "1";
      draw();
    });
    draw();
  }

  build();
})();
