// awsemu's stand-in for aws-lambda-ric's native Runtime API client
// (rapid-client.node), preloaded with `node --require` when the package's
// install scripts could not build it (see awsemu/lambda_/node_ric.py).
// The client's JavaScript asks it for three calls: next() (a Promise of
// {bodyJson, headers}), done(id, body) and error(id, body, xrayCause);
// they are the Runtime API's requests, made with Node's HTTP client:
// https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
"use strict";

const http = require("http");
const Module = require("module");
const path = require("path");

const [hostname, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
// One connection, as the native client keeps: each answer is posted before
// the next invocation is asked for.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function request(method, route, body, headers) {
  return new Promise((resolve, reject) => {
    const sent = http.request(
      { hostname, port, agent, method, path: "/2018-06-01/runtime/invocation/" + route, headers },
      (answer) => {
        let data = "";
        answer.setEncoding("utf-8");
        answer.on("data", (chunk) => (data += chunk));
        answer.on("end", () => resolve({ bodyJson: data, headers: answer.headers }));
      },
    );
    sent.on("error", reject);
    sent.end(body);
  });
}

function post(route, body, headers) {
  const length = { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) };
  request("POST", route, body, Object.assign(length, headers)).catch((failure) => {
    console.error("awsemu runtime client:", failure);
    process.exit(1);
  });
}

const client = {
  next: () => request("GET", "next"),
  done: (id, body) => post(id + "/response", body, {}),
  // The X-Ray cause is left out: awsemu has no X-Ray, and a message outside
  // Latin-1 would make it an invalid header.
  error: (id, body) => {
    let type = "Unhandled";
    try {
      type = JSON.parse(body).errorType || type;
    } catch (ignored) {}
    // An error type that is not printable ASCII cannot be a header value: "Unhandled".
    if (!/^[\x20-\x7e]*$/.test(type)) type = "Unhandled";
    post(id + "/error", body, { "Lambda-Runtime-Function-Error-Type": type });
  },
};

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (path.basename(request) === "rapid-client.node") return __filename;
  return resolve.call(this, request, ...rest);
};
module.exports = client;
