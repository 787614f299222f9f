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

test("the schema-compiled event serializer writes what toJson writes, bigints exact", async () => {
  const { eventToJson } = await import("./serialize.js");
  const event = {
    kind: "process.exit" as const,
    time: 1764000000000000123n,
    mono_time: 99n,
    process: {
      pid: 4242,
      tid: 4243,
      ppid: 1,
      uid: 0,
      gid: 0,
      euid: 0,
      comm: 'we"ird\n',
      exe: "/usr/bin/dash",
      args: ["sh", "-c", "exit 7"],
      args_truncated: false,
      cwd: "/tmp/ü",
      cgroup_id: 18446744073709551615n,
      start_time: 1764000000000000000n,
      ancestry: [{ pid: 1, exe: "/sbin/init" }],
    },
    container: null,
    k8s: null,
    exit: { code: 7, signal: null, core_dumped: false },
  };
  assert.equal(eventToJson(event), toJson(event));
  assert.deepEqual(fromJson(eventToJson(event)), { ...event, mono_time: 99, process: { ...event.process } });
});

test("a nullable 64-bit integer serialises, null or not; the published schema stays standard", async () => {
  const { z } = await import("zod");
  const { compileSerializer, eventJsonSchema } = await import("./serialize.js");
  const schema = z.object({ a: z.bigint().nullable(), b: z.number().int().nullable() });
  const write = compileSerializer<{ a: bigint | null; b: number | null }>(schema);
  assert.equal(write({ a: 18446744073709551615n, b: null }), '{"a":18446744073709551615,"b":null}');
  assert.equal(write({ a: null, b: 3 }), '{"a":null,"b":3}');
  assert.deepEqual((eventJsonSchema(schema).properties as Record<string, unknown>).a, { type: ["integer", "null"] });
});

test("an event's container and pod serialise as toJson writes them (last), labels and nulls included", async () => {
  const { sampleEvent } = await import("./samples.js");
  const { eventToJson } = await import("./serialize.js");
  const id = "9b6eb4b99bcbb826ca2ea13146e5a4c7b3b8fa5283f36d436ef04aa64a8896ae";
  const inPod = sampleEvent("process.exec", {
    container: { id, runtime: "containerd", name: "web", image: "nginx:1.27", labels: { "io.x/y": 'a"b' } },
    k8s: {
      pod: "web-7d4b9c-x2x",
      namespace: "shop",
      uid: "u",
      labels: { app: "web" },
      node: "n1",
      container: "web",
      owner: { kind: "Deployment", name: "web" },
    },
  });
  assert.deepEqual(fromJson(eventToJson(inPod)), fromJson(toJson(inPod)));
  assert.match(
    eventToJson(inPod),
    /,"exec":\{[^}]*\},"container":\{.*\},"k8s":\{.*"owner":\{"kind":"Deployment","name":"web"\}\}\}$/,
  );
  const bare = sampleEvent("process.exec", { container: { id, runtime: "podman" }, k8s: null });
  assert.deepEqual(fromJson(eventToJson(bare)), fromJson(toJson(bare)));
  assert.match(
    eventToJson(bare),
    /"container":\{"id":"9b6e[0-9a-f]+","runtime":"podman","name":null,"image":null,"labels":\{\}\},"k8s":null/,
  );
  const host = sampleEvent("process.exec");
  assert.equal(eventToJson(host), toJson(host));
  assert.match(eventToJson(host), /"container":null,"k8s":null/);
});
