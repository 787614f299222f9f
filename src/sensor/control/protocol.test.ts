import assert from "node:assert/strict";
import { test } from "node:test";
import { CONTROL_ERRORS, LineReader, parseRequest, parseResponse } from "./protocol.js";

function reader(max: number) {
  const events: string[] = [];
  const r = new LineReader(
    max,
    (line) => events.push(`line:${line}`),
    () => events.push("too long"),
  );
  return { push: (s: string) => r.push(Buffer.from(s)), events };
}

test("lines are cut at newlines, across chunks", () => {
  const r = reader(100);
  r.push("ab");
  r.push("c\nde\n\nf");
  r.push("g\n");
  assert.deepEqual(r.events, ["line:abc", "line:de", "line:", "line:fg"]);
});

test("a line over the bound is reported once and skipped to its newline", () => {
  const r = reader(4);
  r.push("12345");
  r.push("6789");
  r.push("0\nok\n");
  assert.deepEqual(r.events, ["too long", "line:ok"]);
});

test("a line of exactly the bound is read", () => {
  const r = reader(4);
  r.push("1234\n12345\nab\n");
  assert.deepEqual(r.events, ["line:1234", "too long", "line:ab"]);
});

test("requests: params default to {}, id to null; 64-bit integers stay exact", () => {
  assert.deepEqual(parseRequest('{"method":"version"}'), { id: null, method: "version", params: {} });
  assert.deepEqual(parseRequest('{"id":1,"method":"actors","params":{"x":18446744073709551615}}'), {
    id: 1,
    method: "actors",
    params: { x: 18446744073709551615n },
  });
});

test("requests: what is wrong is named", () => {
  assert.throws(() => parseRequest("{"), { code: CONTROL_ERRORS.malformed });
  assert.throws(() => parseRequest("null"), { code: CONTROL_ERRORS.invalid, message: "request must be a JSON object" });
  assert.throws(() => parseRequest('{"id":true,"method":"x"}'), {
    code: CONTROL_ERRORS.invalid,
    message: "request id must be a number or a string",
  });
  assert.throws(() => parseRequest('{"id":5,"method":""}'), { code: CONTROL_ERRORS.invalid, requestId: 5 });
});

test("responses: a result or an error, anything else refused", () => {
  assert.deepEqual(parseResponse('{"id":1,"result":null}'), { id: 1, result: null });
  assert.deepEqual(parseResponse('{"id":1,"error":{"code":"VIGIL_ERR_INTERNAL","message":"m"}}'), {
    id: 1,
    error: { code: "VIGIL_ERR_INTERNAL", message: "m" },
  });
  assert.throws(() => parseResponse('{"id":1}'), /not a control response/);
  assert.throws(() => parseResponse("HTTP/1.1 400 Bad Request"));
});
