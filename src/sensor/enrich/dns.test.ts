import assert from "node:assert/strict";
import { test } from "node:test";
import { parseDnsQuery } from "./dns.js";

/** A query header: id, flags, qdcount, and zero counts for the other sections. */
const header = (id: number, flags = 0x0100, qdcount = 1) => {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(flags, 2);
  b.writeUInt16BE(qdcount, 4);
  return b;
};
const name = (...labels: (string | Buffer)[]) =>
  Buffer.concat([
    ...labels.flatMap((l) => {
      const b = typeof l === "string" ? Buffer.from(l) : l;
      return [Buffer.from([b.length]), b];
    }),
    Buffer.from([0]),
  ]);
const typeClass = (type: number, cls = 1) => Buffer.from([type >> 8, type & 0xff, cls >> 8, cls & 0xff]);
const query = (id: number, n: Buffer, type: number, cls = 1) => Buffer.concat([header(id), n, typeClass(type, cls)]);

const OK = { opcode: "QUERY", response: false, question_count: 1, class: "IN", error: null };

test("an A query", () => {
  assert.deepEqual(parseDnsQuery(query(0x1234, name("example", "invalid"), 1)), {
    ...OK,
    id: 0x1234,
    name: "example.invalid",
    type: "A",
    type_code: 1,
  });
});

test("types by mnemonic, else TYPE<n>; classes likewise", () => {
  const q = (type: number, cls = 1) => parseDnsQuery(query(1, name("a"), type, cls));
  assert.deepEqual(
    [28, 15, 16, 33, 65, 255, 12, 4242].map((t) => q(t).type),
    ["AAAA", "MX", "TXT", "SRV", "HTTPS", "ANY", "PTR", "TYPE4242"],
  );
  assert.equal(q(16, 3).class, "CH");
  assert.equal(q(16, 77).class, "CLASS77");
});

test("the root name and names that need escaping", () => {
  assert.equal(parseDnsQuery(query(1, name(), 2)).name, ".");
  const odd = parseDnsQuery(query(1, name("a.b", Buffer.from([0x5c, 0x20, 0x00, 0xff]), "c"), 1));
  assert.equal(odd.name, "a\\.b.\\\\\\032\\000\\255.c");
  assert.equal(odd.error, null);
});

test("header fields: opcode, the QR bit, the question count", () => {
  const update = Buffer.concat([header(7, 0x2800, 1), name("zone"), typeClass(6)]);
  assert.equal(parseDnsQuery(update).opcode, "UPDATE");
  const response = Buffer.concat([header(7, 0x8180, 1), name("x"), typeClass(1)]);
  assert.equal(parseDnsQuery(response).response, true);
  const noQuestion = parseDnsQuery(header(9, 0x0100, 0));
  assert.deepEqual([noQuestion.id, noQuestion.question_count, noQuestion.error], [9, 0, "no question"]);
});

test("a backward compression pointer is followed", () => {
  // Only the header precedes the first question, so a real query never compresses its name; a
  // pointer back into the header is still followed: "b", then at offset 3 the flags' low byte,
  // 0, ends the name.
  const msg = Buffer.concat([header(0x0003), Buffer.from([1, 0x62, 0xc0, 0x03]), typeClass(1)]);
  const q = parseDnsQuery(msg);
  assert.deepEqual([q.name, q.type, q.error], ["b", "A", null]);
});

test("malformed messages give an error and what was read, never an exception", () => {
  const e = (msg: Buffer, size?: number) => parseDnsQuery(msg, size).error;
  assert.equal(e(Buffer.alloc(0)), "truncated: 0 bytes, shorter than the 12-byte header");
  assert.equal(e(Buffer.alloc(11)), "truncated: 11 bytes, shorter than the 12-byte header");
  const self = Buffer.concat([header(1), Buffer.from([0xc0, 12]), typeClass(1)]);
  assert.equal(e(self), "compression pointer at 12 to 12 does not point back: a loop or a forward reference");
  const forward = Buffer.concat([header(1), Buffer.from([0xc0, 20]), typeClass(1), Buffer.from([0])]);
  assert.match(e(forward) ?? "", /does not point back/);
  // Two labels pointing at each other: a → pointer to b's start, b → pointer to a's start.
  const pingPong = Buffer.concat([header(1), Buffer.from([1, 0x61, 0xc0, 16, 1, 0x62, 0xc0, 12])]);
  assert.match(e(pingPong) ?? "", /does not point back/);
  assert.equal(e(Buffer.concat([header(1), Buffer.from([0x40, 1])])), "reserved label type 0x40 at 12");
  assert.equal(e(Buffer.concat([header(1), Buffer.from([0x80])])), "reserved label type 0x80 at 12");
  const long = name(...Array.from({ length: 5 }, () => "x".repeat(63)));
  assert.equal(e(Buffer.concat([header(1), long, typeClass(1)])), "name longer than 255 bytes");
  assert.equal(e(Buffer.concat([header(1), Buffer.from([5, 0x61, 0x62])])), "truncated: the name runs past the end");
  assert.equal(
    e(Buffer.concat([header(1), Buffer.from([5, 0x61, 0x62])]), 600),
    "truncated: the name runs past the bytes captured",
  );
  assert.equal(e(Buffer.concat([header(1), Buffer.from([0xc0])])), "truncated: the name runs past the end");
  const noType = Buffer.concat([header(1), name("a"), Buffer.from([0, 1])]);
  assert.equal(e(noType), "truncated: the question's type and class are missing");
  const partial = parseDnsQuery(noType);
  assert.deepEqual([partial.id, partial.name, partial.type], [1, "a", null]);
});

test("random bytes never throw", () => {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  for (let i = 0; i < 5000; i++) {
    const msg = Buffer.alloc(rand() % 80);
    for (let j = 0; j < msg.length; j++) msg[j] = rand() & 0xff;
    // Bias towards pointers and label lengths so the name paths are walked.
    if (msg.length > 14 && i % 2) msg[12] = 0xc0 | (rand() & 1);
    const q = parseDnsQuery(msg, msg.length + (i % 3));
    assert.ok(q.error === null || typeof q.error === "string");
  }
});
