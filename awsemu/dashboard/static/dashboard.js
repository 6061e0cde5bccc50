// The dashboard's live parts: the overview's request table, a log group's
// tail, and an upload's default key. Everything else is plain HTML.
"use strict";

function cell(row, value) {
  const td = document.createElement("td");
  td.textContent = value;
  row.appendChild(td);
}

function refreshRequests(table) {
  fetch("/_awsemu/requests.json", { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : []))
    .then((calls) => {
      const body = document.createElement("tbody");
      for (const call of calls) {
        const row = document.createElement("tr");
        const when = new Date(call.started * 1000).toISOString().substring(11, 19);
        for (const value of [when, call.service, call.operation, call.resource, call.status, call.ms, call.account]) {
          cell(row, value);
        }
        body.appendChild(row);
      }
      table.replaceChild(body, table.tBodies[0]);
    })
    .catch(() => {});
}

function tail(pre) {
  // A long poll: each answer holds the events after those the page has
  // (the ids at the last event's millisecond go back as "seen").
  let since = "";
  let seen = [];
  function poll() {
    const src = pre.dataset.src + (since ? "&since=" + since + "&seen=" + seen.join(",") : "");
    fetch(src, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((events) => {
        const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
        for (const event of events) {
          if (event.time !== since) {
            since = event.time;
            seen = [];
          }
          seen.push(event.id);
          const when = new Date(event.time).toISOString().substring(11, 23);
          pre.appendChild(document.createTextNode(when + " " + event.message.replace(/\n$/, "") + "\n"));
        }
        if (atBottom) pre.scrollTop = pre.scrollHeight;
        setTimeout(poll, 0);
      })
      .catch(() => setTimeout(poll, 2000));
  }
  poll();
}

document.addEventListener("DOMContentLoaded", () => {
  const requests = document.getElementById("requests");
  if (requests) setInterval(() => refreshRequests(requests), 2000);
  const pre = document.getElementById("tail");
  if (pre) tail(pre);
  const upload = document.querySelector("form.upload");
  if (upload) {
    upload.addEventListener("submit", () => {
      const key = upload.elements.key;
      const file = upload.elements.file.files[0];
      if (!key.value && file) key.value = upload.elements.prefix.value + file.name;
    });
  }
});
