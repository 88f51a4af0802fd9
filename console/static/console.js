// Live alerts: follows the feed's server-sent events (GET /v1/events, alert
// kinds only, with checkpoints) and lists each alert raised or cleared after
// the page was rendered. Events replayed before the first checkpoint are
// already in the page's own list. Text only (textContent); no data leaves the page.
"use strict";
(function () {
  var list = document.getElementById("live-alerts");
  if (!list || !window.EventSource) return;
  var live = false;
  var source = new EventSource(list.getAttribute("data-events"));
  var num = function (v) { return typeof v === "number" ? v.toFixed(1) : "0.0"; };
  var text = function (event) {
    var b = event.bottleneckAlert, w = event.balanceAlert;
    if (b) {
      var key = b.key || {};
      return "Bottleneck " + (b.raised ? "raised " : "cleared ") + (key.region || "") + " " + (key.tms || "") + " " +
        ((b.period || {}).label || "") + ": " + String(b.demandKind || "").toLowerCase() + " demand " + num(b.demand) +
        " against capacity " + num(b.capacity);
    }
    if (w) {
      var share = typeof w.contractShare === "number" ? (w.contractShare * 100).toFixed(1) + "%" : "–";
      return "50/50 " + (w.status || "") + ": " + (w.department || "") + " FY" + w.fiscalYear + " contract share " + share;
    }
    return null;
  };
  source.onmessage = function (e) {
    var event;
    try { event = JSON.parse(e.data); } catch (_) { return; }
    if (event.kind === "EVENT_KIND_CHECKPOINT") { live = true; return; }
    if (!live) return;
    var t = text(event);
    if (!t) return;
    var none = list.querySelector(".none");
    if (none) none.remove();
    var li = document.createElement("li");
    var red = event.bottleneckAlert ? event.bottleneckAlert.raised : event.balanceAlert.status === "BALANCE_STATUS_VIOLATION";
    li.className = "alert live " + (red ? "red" : "orange");
    li.setAttribute("data-sequence", String(event.sequence || ""));
    li.textContent = t;
    list.appendChild(li);
  };
  source.addEventListener("error", function () { /* EventSource reconnects by itself, resuming from the last id. */ });
})();
