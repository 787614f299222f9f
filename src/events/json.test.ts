import assert from "node:assert/strict";
import { test } from "node:test";
import { fromJson, toJson } from "./json.js";

test("bigint times are written as exact JSON integers", () => {
  const line = toJson({
    kind: "process.exec",
    time: 1764000000000000123n,
    n: 5,
    s: 'a"b',
    list: [1n, null, true],
    skip: undefined,
  });
  assert.equal(line, '{"kind":"process.exec","time":1764000000000000123,"n":5,"s":"a\\"b","list":[1,null,true]}');
});

test("toJson agrees with JSON.stringify when there is no bigint", () => {
  const value = { a: [1, 2.5, "x\n\u2028"], b: { c: null, d: false }, e: "\uE000" };
  assert.equal(toJson(value), JSON.stringify(value));
});

test("fromJson keeps integers beyond 2^53 exact and leaves digits in strings alone", () => {
  const parsed = fromJson('{"time":1764000000000000123,"small":42,"s":"12345678901234567890","f":1.5e300}') as Record<
    string,
    unknown
  >;
  assert.equal(parsed.time, 1764000000000000123n);
  assert.equal(parsed.small, 42);
  assert.equal(parsed.s, "12345678901234567890");
  assert.equal(parsed.f, 1.5e300);
});

test("round trip", () => {
  const value = { time: 2n ** 63n - 1n, args: ["sh", "-c", "exit 7"], cgroup_id: 1n };
  assert.deepEqual(fromJson(toJson(value)), { time: 2n ** 63n - 1n, args: ["sh", "-c", "exit 7"], cgroup_id: 1 });
});
