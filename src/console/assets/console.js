// rackboot console: live updates over one EventSource. Pages work without this script;
// with it, tiles, counts and session progress follow /console/events without a reload.
// Written for 10,000 tiles: updates are batched into one animation frame and only tiles
// whose state changed are touched (a class swap each, no layout of the others).
(function () {
  "use strict";
  var LABELS = {
    unreachable: "BMC unreachable", failed: "failed", powering: "powering", booting: "booting",
    configuring: "configuring", stable: "stable (on)", off: "off", unknown: "unknown"
  };
  var known = {}; // xname -> state last applied
  var pending = null;

  function applyTiles(tiles) {
    for (var x in tiles) {
      var s = tiles[x];
      if (known[x] === s) continue;
      known[x] = s;
      var el = document.getElementById("n-" + x);
      if (!el || el.className === "t s-" + s) continue;
      el.className = "t s-" + s;
      el.title = x + ": " + (LABELS[s] || s);
    }
  }

  function text(root, sel, v) {
    var el = root.querySelector(sel);
    if (el) el.textContent = v;
  }

  function applySessions(list) {
    for (var i = 0; i < list.length; i++) {
      var s = list[i];
      var sel = '[data-session="' + CSS.escape(s.name) + '"]';
      var bars = document.querySelectorAll(".progress" + sel);
      for (var j = 0; j < bars.length; j++) {
        var b = bars[j];
        var ok = Math.max(0, Math.min(100, s.ok));
        var failed = Math.max(0, Math.min(100 - ok, s.failed));
        b.querySelector(".ok").style.width = ok + "%";
        b.querySelector(".failed").style.width = failed + "%";
        b.querySelector(".bar").setAttribute("aria-label", Math.round(ok) + "% successful, " + Math.round(failed) + "% failed");
        text(b, ".pct-ok", Math.round(ok));
        text(b, ".pct-failed", Math.round(failed));
        text(b, ".pct-off", Math.round(s.off));
        text(b, ".pct-on", Math.round(s.on));
        text(b, ".pct-cfg", Math.round(s.cfg));
      }
      var st = document.querySelectorAll(".status" + sel);
      for (var k = 0; k < st.length; k++) st[k].textContent = s.status;
    }
  }

  function apply() {
    var u = pending;
    pending = null;
    if (!u) return;
    if (u.tiles) applyTiles(u.tiles);
    if (u.counts) for (var s in u.counts) text(document, "#count-" + s, u.counts[s]);
    if (u.sessions) applySessions(u.sessions);
    if (u.taken) {
      var t = document.getElementById("updated");
      if (t) { t.dateTime = u.taken; t.textContent = u.taken.substring(11, 19) + " UTC"; }
    }
    var n = document.querySelector("[data-node]");
    var me = n && n.getAttribute("data-node");
    if (me && known[me]) {
      n.textContent = LABELS[known[me]] || known[me];
      var badge = document.getElementById("node-badge");
      if (badge) badge.className = "t s-" + known[me];
    }
    document.documentElement.setAttribute("data-updates", String(++updates));
  }
  var updates = 0;

  function merge(u) {
    if (!pending) { pending = u; requestAnimationFrame(apply); return; }
    if (u.tiles) { pending.tiles = pending.tiles || {}; for (var x in u.tiles) pending.tiles[x] = u.tiles[x]; }
    if (u.counts) pending.counts = u.counts;
    if (u.sessions) pending.sessions = u.sessions;
    if (u.taken) pending.taken = u.taken;
  }

  function start() {
    var wantsTiles = document.querySelector('[data-live="tiles"]') || document.querySelector("[data-node]");
    var watch = document.querySelector("[data-watch]");
    var sessions = document.querySelector('[data-live="sessions"]');
    if (!wantsTiles && !sessions) return;
    if (!window.EventSource) return;
    var q = watch ? "?sessions=" + encodeURIComponent(watch.getAttribute("data-watch")) : (sessions ? "?sessions=all" : "");
    var es = new EventSource("/console/events" + q);
    var live = document.getElementById("live");
    es.addEventListener("update", function (ev) {
      if (live) live.hidden = false;
      merge(JSON.parse(ev.data));
    });
    es.onerror = function () { if (live) live.hidden = true; };
    window.addEventListener("pagehide", function () { es.close(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
