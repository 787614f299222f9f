import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger } from "../log.js";
import { InterestInForce } from "./interest-in-force.js";
import type { InterestSpec } from "./kernel/interest.js";
import { type CompiledPolicy, compilePolicyFile, PolicyEngine, PolicySet, policyInterest } from "./policy/index.js";

function policy(when: string): CompiledPolicy {
  const text = JSON.stringify({
    apiVersion: "vigil.dev/v1",
    kind: "Policy",
    metadata: { name: "p" },
    spec: { rules: [{ id: "r", on: "file.open", when }] },
  });
  const result = compilePolicyFile("p.json", text);
  if (!result.policy) throw new Error("does not compile");
  return result.policy;
}

test("a swap writes the union of old and new before the new set is in force, and the new alone after", () => {
  const engine = new PolicyEngine();
  const old = new PolicySet([policy("file.path.startsWith('/etc/')")], []);
  engine.swap(old);
  const writes: { paths: unknown; inForce: PolicySet }[] = [];
  const derive = (set: PolicySet) => policyInterest(set.rules);
  const interest = new InterestInForce(
    (spec: InterestSpec) => writes.push({ paths: spec.kinds["file.open"]?.paths, inForce: engine.current }),
    derive(old),
    createLogger("silent"),
  );
  interest.follow(engine, derive);
  const next = new PolicySet([policy("file.path.startsWith('/root/')")], []);
  engine.swap(next);
  assert.deepEqual(writes, [
    { paths: { "/etc/": "any", "/root/": "any" }, inForce: old },
    { paths: { "/root/": "any" }, inForce: next },
  ]);
  assert.deepEqual(interest.current.kinds["file.open"]?.paths, { "/root/": "any" });
});

test("a write that fails leaves the kernel sending everything but what the user ignores", () => {
  const engine = new PolicyEngine();
  const written: InterestSpec[] = [];
  const base: InterestSpec = { kinds: {}, ignoreComms: ["cron"], ignoreExes: [] };
  const derive = (set: PolicySet) => policyInterest(set.rules, base);
  let fail = true;
  const interest = new InterestInForce(
    (spec) => {
      if (fail) {
        fail = false;
        throw new Error("map full");
      }
      written.push(spec);
    },
    derive(engine.current),
    createLogger("silent"),
  );
  interest.follow(engine, derive);
  engine.swap(new PolicySet([policy("file.path == '/etc/shadow'")], []));
  assert.deepEqual(written[0], { kinds: {}, ignoreComms: ["cron"], ignoreExes: [] });
});

test("an extra interest widens every write, keeps the ignored processes, and its events are told apart", () => {
  const writes: InterestSpec[] = [];
  const base: InterestSpec = {
    kinds: { "file.open": { enabled: true, pathDefault: "none", paths: { "/etc/": "write" } } },
    ignoreComms: ["backup"],
    ignoreExes: [],
  };
  const extra: InterestSpec = {
    kinds: { "file.open": { enabled: true, pathDefault: "none", paths: { "/opt/": "read", "/etc/py/": "read" } } },
    ignoreComms: [],
    ignoreExes: [],
  };
  const interest = new InterestInForce((spec) => writes.push(spec), base, createLogger("silent"), extra);
  assert.deepEqual(interest.current.kinds["file.open"]?.paths, {
    "/etc/": "write",
    "/etc/py/": "any",
    "/opt/": "read",
  });
  assert.deepEqual(interest.current.ignoreComms, ["backup"]);
  assert.equal(interest.sends("file.open", "/opt/app/x.py", "read"), false);
  assert.equal(interest.sends("file.open", "/etc/py/x", "write"), true);
  assert.equal(interest.sends("file.open", "/etc/py/x", "read"), false);
  assert.equal(interest.sends("file.open", "/etc/passwd", "write"), true);
});
