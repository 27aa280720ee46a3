// Kafka web console: small enhancements over pages that work without it.
// - forms with data-confirm ask first, then send confirm=yes (skipping the confirmation page);
// - charts (img.live-chart) reload every few seconds;
// - the message browser's "Live tail" appends new records as they arrive, and says so when a
//   poll fails.
"use strict";

function setupConfirms() {
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
        return;
      }
      if (!form.querySelector("input[name=confirm]")) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = "confirm";
        input.value = "yes";
        form.appendChild(input);
      }
    });
  });
}

function setupCharts() {
  var charts = document.querySelectorAll("img.live-chart");
  if (charts.length === 0) return;
  setInterval(function () {
    charts.forEach(function (img) {
      var base = img.getAttribute("src").split("?")[0];
      var next = new Image();
      next.onload = function () { img.src = next.src; };
      next.src = base + "?t=" + Date.now();
    });
  }, 3000);
}

function cell(row, className) {
  var td = document.createElement("td");
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function shown(td, value) {
  if (value === null || value === undefined) {
    var span = document.createElement("span");
    span.className = "muted";
    span.textContent = "null";
    td.appendChild(span);
    return;
  }
  var pre = document.createElement("pre");
  pre.className = value.format;
  pre.textContent = value.text;
  td.appendChild(pre);
  if (value.truncated) {
    var note = document.createElement("div");
    note.className = "muted truncated";
    note.textContent = "first 64 KiB of " + value.size + " bytes";
    td.appendChild(note);
  }
}

function recordRow(r) {
  var tr = document.createElement("tr");
  tr.className = "new";
  tr.setAttribute("data-offset", String(r.offset));
  cell(tr).textContent = String(r.offset);
  cell(tr, "nowrap").textContent = r.timestamp_text;
  shown(cell(tr, "key"), r.key);
  shown(cell(tr, "value"), r.value);
  var headers = cell(tr, "headers");
  r.headers.forEach(function (h) {
    var div = document.createElement("div");
    div.className = "header";
    var k = document.createElement("span");
    k.className = "hkey";
    k.textContent = h.key;
    div.appendChild(k);
    div.appendChild(document.createTextNode(": "));
    var v = document.createElement("span");
    v.className = h.value ? "hvalue" : "muted";
    v.textContent = h.value ? h.value.text : "null";
    div.appendChild(v);
    headers.appendChild(div);
  });
  return tr;
}

function setupLiveTail() {
  var toggle = document.getElementById("live-tail");
  var table = document.getElementById("records");
  if (!toggle || !table) return;
  var timer = null;
  var busy = false;
  // A failed poll shows an error line under the table (cleared by the next good poll), so the
  // tail never just goes quiet.
  function tailError(message) {
    var line = document.getElementById("tail-error");
    if (!message) {
      if (line) line.remove();
      return;
    }
    if (!line) {
      line = document.createElement("p");
      line.id = "tail-error";
      line.className = "error";
      table.parentNode.insertBefore(line, table.nextSibling);
    }
    line.textContent = message;
  }
  function poll() {
    if (busy) return;
    busy = true;
    var url = "/api/topics/" + encodeURIComponent(table.dataset.topic) + "/messages" +
      "?partition=" + encodeURIComponent(table.dataset.partition) +
      "&offset=" + encodeURIComponent(table.dataset.nextOffset) +
      "&format=" + encodeURIComponent(table.dataset.format) + "&limit=100";
    fetch(url, { headers: { "Accept": "application/json" } })
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          if (!response.ok) {
            throw new Error((body && body.message) || ("HTTP " + response.status));
          }
          if (!body) throw new Error("the answer was not JSON");
          return body;
        });
      })
      .then(function (page) {
        var body = table.tBodies[0];
        page.records.forEach(function (r) { body.appendChild(recordRow(r)); });
        table.dataset.nextOffset = String(page.next_offset);
        tailError(null);
      })
      .catch(function (e) { tailError("Live tail: a poll failed: " + e.message + " (retrying every second)"); })
      .finally(function () { busy = false; });
  }
  toggle.addEventListener("change", function () {
    if (toggle.checked) {
      poll();
      timer = setInterval(poll, 1000);
    } else if (timer) {
      clearInterval(timer);
      timer = null;
    }
  });
}

document.addEventListener("DOMContentLoaded", function () {
  setupConfirms();
  setupCharts();
  setupLiveTail();
});
