// Live alerts: listens to the feed's server-sent events (GET /v1/events)
// and lists alert events as they come. No data leaves the page.
"use strict";
(function () {
  var list = document.getElementById("live-alerts");
  if (!list || !window.EventSource) return;
  var source = new EventSource(list.getAttribute("data-events"));
  source.onmessage = function (e) {
    var event;
    try { event = JSON.parse(e.data); } catch (_) { return; }
    var alert = event.bottleneckAlert || event.balanceAlert;
    if (!alert) return;
    var li = document.createElement("li");
    li.className = "alert " + (event.bottleneckAlert ? "red" : "orange");
    li.textContent = (event.bottleneckAlert ? "Bottleneck: " : "50/50: ") + JSON.stringify(alert);
    list.appendChild(li);
  };
  source.onerror = function () { source.close(); };
})();
