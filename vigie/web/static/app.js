// vigie's pages: times in the reader's zone, live updates of the timeline (server-sent
// events), keyboard shortcuts, and the search form without its empty fields.
// No dependency, no build step. Rows arrive as HTML rendered (and escaped) by the server.
(function () {
  "use strict";

  var body = document.body;
  var lang = body.dataset.lang || "en";
  var dateTime = new Intl.DateTimeFormat(lang, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"
  });

  // --- times: <time datetime="…Z"> shown in the reader's zone (the source's is its title)
  function localTimes(root) {
    root.querySelectorAll("time[datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when.getTime())) el.textContent = dateTime.format(when);
    });
  }
  localTimes(document);

  // --- selection and keyboard
  var selected = null;

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("main li.update"));
  }

  function select(el, focus) {
    if (selected) selected.classList.remove("selected");
    selected = el;
    if (!el) return;
    el.classList.add("selected");
    var link = el.querySelector("a.open");
    if (focus !== false && link) link.focus({ preventScroll: true });
    el.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var list = rows();
    if (!list.length) return;
    var i = list.indexOf(selected);
    if (i < 0) i = step > 0 ? 0 : list.length - 1;
    else i = Math.min(list.length - 1, Math.max(0, i + step));
    select(list[i]);
  }

  function openSelected() {
    var link = selected && selected.querySelector("a.open");
    if (link) window.location.assign(link.href);
  }

  document.addEventListener("focusin", function (e) {
    var row = e.target.closest && e.target.closest("main li.update");
    if (row && row !== selected) select(row, false);
  });

  var help = document.getElementById("help");
  if (help) {
    help.querySelectorAll("[data-close]").forEach(function (b) {
      b.addEventListener("click", function () { help.close(); });
    });
  }

  document.addEventListener("keydown", function (e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t.closest && t.closest("input, textarea, select, [contenteditable]")) {
      if (e.key === "Escape") t.blur();
      return;
    }
    if (help && help.open) return;
    switch (e.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "o": openSelected(); break;
      case "Enter":
        if (t.closest && t.closest("a, button, summary")) return; // the element's own Enter
        openSelected();
        break;
      case "/":
        var field = document.querySelector("[data-search]");
        if (!field) return;
        field.focus();
        field.select();
        break;
      case "?":
        if (help && help.showModal) help.showModal();
        break;
      default:
        return;
    }
    e.preventDefault();
  });

  document.querySelectorAll("[data-reload]").forEach(function (b) {
    b.addEventListener("click", function () { window.location.reload(); });
  });

  // --- the search form: empty fields are left out of the URL
  document.querySelectorAll("form[data-drop-blank]").forEach(function (form) {
    form.addEventListener("submit", function () {
      Array.prototype.forEach.call(form.elements, function (el) {
        if (el.name && !el.disabled && (el.type !== "checkbox") && !String(el.value).trim()) {
          el.disabled = true;
        }
      });
    });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-drop-blank] [disabled]").forEach(function (el) {
      el.disabled = false;
    });
  });

  // --- live updates of the timeline
  var liveUrl = body.dataset.live;
  var list = document.getElementById("updates");
  if (!liveUrl || !list || !window.EventSource) return;

  var status = document.getElementById("live-status");
  var badge = document.getElementById("new-badge");
  var empty = document.getElementById("empty");
  var unseen = 0;

  function setStatus(on) {
    if (!status) return;
    status.classList.toggle("on", on);
    status.querySelector(".label").textContent = on ? status.dataset.on : status.dataset.off;
  }

  function awayFromTop() {
    return window.scrollY > list.offsetTop;
  }

  function showBadge() {
    if (!badge) return;
    if (!unseen) {
      badge.hidden = true;
      return;
    }
    var form = unseen === 1 ? badge.dataset.one : badge.dataset.other;
    badge.textContent = "↑ " + form.replace("{n}", String(unseen));
    badge.hidden = false;
  }

  if (badge) {
    badge.addEventListener("click", function () {
      unseen = 0;
      showBadge();
      var first = rows()[0];
      if (first) select(first); // before scrolling: selecting scrolls to the row itself
      window.scrollTo(0, 0); // at once: a smooth scroll can be cut short by rows arriving
    });
  }
  window.addEventListener("scroll", function () {
    if (unseen && !awayFromTop()) {
      unseen = 0;
      showBadge();
    }
  }, { passive: true });

  function element(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = String(html).trim();
    var el = tpl.content.firstElementChild;
    return el && el.matches("li.update") ? el : null;
  }

  function key(el) {
    return [Date.parse(el.dataset.when) || 0, Number(el.dataset.id) || 0];
  }

  function newer(a, b) {
    var ka = key(a), kb = key(b);
    return ka[0] !== kb[0] ? ka[0] > kb[0] : ka[1] > kb[1];
  }

  function insert(el) {
    var others = list.children;
    for (var i = 0; i < others.length; i++) {
      if (newer(el, others[i])) {
        list.insertBefore(el, others[i]);
        return true;
      }
    }
    if (list.dataset.more) return false; // older than this page: it is on a later one
    list.appendChild(el);
    return true;
  }

  function byId(id) {
    return Number.isInteger(id) ? list.querySelector('li.update[data-id="' + id + '"]') : null;
  }

  function apply(data) {
    var row = data && data.row;
    var el = row && element(data.html);
    if (!el) return;
    // The rows this one replaces: itself, or its story's, or a copy shown alone before
    // the story linked it.
    var old = [];
    [row.id].concat((row.copies || []).map(function (c) { return c.id; })).forEach(function (id) {
      var found = byId(id);
      if (found && old.indexOf(found) < 0) old.push(found);
    });
    if (Number.isInteger(row.story)) {
      list.querySelectorAll('li.update[data-story="' + row.story + '"]').forEach(function (o) {
        if (old.indexOf(o) < 0) old.push(o);
      });
    }
    var wasSelected = old.indexOf(selected) >= 0;
    var placed;
    if (old.length === 1 && old[0].dataset.when === el.dataset.when) {
      old[0].replaceWith(el);
      placed = true;
    } else {
      old.forEach(function (o) { o.remove(); });
      placed = insert(el);
    }
    if (!placed) return;
    localTimes(el);
    if (empty) empty.hidden = true;
    if (wasSelected) select(el, false);
    el.classList.add(old.length ? "changed" : "fresh");
    if (!old.length && awayFromTop()) {
      unseen += 1;
      showBadge();
    }
  }

  var source = new EventSource(liveUrl);
  source.onopen = function () { setStatus(true); };
  source.onerror = function () { setStatus(false); };
  source.addEventListener("update", function (ev) {
    var data;
    try { data = JSON.parse(ev.data); } catch (err) { return; }
    apply(data);
  });
  source.addEventListener("stale", function () {
    source.close();
    setStatus(false);
    var stale = document.getElementById("stale");
    if (stale) stale.hidden = false;
  });
  window.vigieLive = source; // for the tests and the curious
})();
