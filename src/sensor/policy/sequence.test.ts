import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Alert } from "../../events/alert.js";
import { type DeepPartial, sampleEvent } from "../../events/samples.js";
import type { EventKind, EventOf, ProcessContext, VigilEvent } from "../../events/schema.js";
import { type CompiledPolicy, compilePolicyFile } from "./compile.js";
import { PolicyEngine, PolicySet } from "./engine.js";
import type { SequenceLimits } from "./sequence.js";
import { formatPolicyError } from "./source.js";

const S = 1_000_000_000n;
const T0 = 1_764_000_000_000_000_000n;

function policyText(rules: unknown[]): string {
  const spec = { lists: { shells: ["/bin/sh", "/usr/bin/dash", "/usr/bin/bash"] }, rules };
  return JSON.stringify({ apiVersion: "vigil.dev/v1", kind: "Policy", metadata: { name: "seq" }, spec }, null, 2);
}

function compile(...rules: unknown[]): CompiledPolicy {
  const result = compilePolicyFile("seq.json", policyText(rules));
  if (!result.policy) throw new Error(result.errors.map(formatPolicyError).join("\n"));
  return result.policy;
}

const errors = (...rules: unknown[]) => compilePolicyFile("seq.json", policyText(rules)).errors.map(formatPolicyError);

/** "connected out, then exec'd a shell", keyed as asked. */
function connectThenShell(by: string, within = "10s", id = "connect-then-shell") {
  return {
    id,
    sequence: {
      within,
      by,
      steps: [
        {
          on: "net.connect",
          when: "net.remote != null && !(net.remote.address.startsWith('127.') || net.remote.address == '::1')",
        },
        { on: "process.exec", when: "process.exe in lists.shells" },
      ],
    },
    severity: "high",
    message: "{{process.exe}} started after a connection",
  };
}

function engineWith(policy: CompiledPolicy, limits?: SequenceLimits): PolicyEngine {
  const engine = new PolicyEngine({ clock: () => 42n, ...(limits && { sequenceLimits: limits }) });
  engine.swap(new PolicySet([policy], []));
  return engine;
}

/** Feeds events in order; the alerts raised, each as the kinds and pids of its events. */
function feed(engine: PolicyEngine, events: VigilEvent[]): Alert[] {
  const out: Alert[] = [];
  for (const e of events) engine.evaluate(e, (a) => out.push(a));
  return out;
}

const shape = (alerts: Alert[]) => alerts.map((a) => a.events.map((e) => `${e.kind}:${e.process.pid}`));

interface Proc {
  pid: number;
  start: bigint;
  parents?: number[];
  cgroup?: bigint;
  exe?: string;
}

function processOf(p: Proc): DeepPartial<ProcessContext> {
  return {
    pid: p.pid,
    tid: p.pid,
    exe: p.exe ?? "/usr/bin/curl",
    start_time: p.start,
    cgroup_id: p.cgroup ?? 1n,
    ancestry: (p.parents ?? []).map((pid) => ({ pid, exe: "/usr/bin/bash" })),
  };
}

function at<K extends EventKind>(kind: K, seconds: number, p: Proc, part?: DeepPartial<EventOf<K>>): EventOf<K> {
  const time = T0 + BigInt(Math.round(seconds * 1000)) * 1_000_000n;
  return sampleEvent(kind, { ...part, time, process: processOf(p) } as DeepPartial<EventOf<K>>);
}

const connect = (seconds: number, p: Proc, address = "203.0.113.9") =>
  at("net.connect", seconds, p, { net: { family: "ipv4", remote: { address, port: 4444 } } });
const exec = (seconds: number, p: Proc) => at("process.exec", seconds, { exe: "/bin/sh", ...p });

const curl: Proc = { pid: 100, start: T0 - S, parents: [50, 1] };
const child: Proc = { pid: 101, start: T0, parents: [100, 50, 1] };
const grandchild: Proc = { pid: 102, start: T0 + S, parents: [101, 100, 50, 1] };
const stranger: Proc = { pid: 200, start: T0 - S, parents: [1] };

describe("sequence rules", () => {
  test("connect out, then a shell in the same tree: one alert with both events, its message from the last", () => {
    const engine = engineWith(compile(connectThenShell("tree")));
    const alerts = feed(engine, [connect(0, curl), exec(3, child)]);
    assert.deepEqual(shape(alerts), [["net.connect:100", "process.exec:101"]]);
    const [alert] = alerts;
    assert.equal(alert?.message, "/bin/sh started after a connection");
    assert.deepEqual(alert?.rule, { id: "connect-then-shell", policy: "seq", severity: "high", tags: [] });
    assert.equal(alert?.outcome, "alerted");
    const stats = engine.statistics().perRule[0];
    assert.equal(stats?.matched, 1);
    assert.equal(stats?.tested, 2);
    assert.deepEqual(stats?.sequence, { partial: 0, expired: 0, evicted: 0 });
  });

  test("steps count only in order; a loopback connection starts nothing", () => {
    const engine = engineWith(compile(connectThenShell("tree")));
    assert.deepEqual(shape(feed(engine, [exec(0, curl), connect(1, curl)])), []);
    assert.deepEqual(shape(feed(engine, [connect(2, stranger, "127.0.0.1"), exec(3, stranger)])), []);
    // The first connection is still waiting for its shell.
    assert.equal(engine.statistics().sequences.partial, 1);
  });

  test("the window is measured on event times: at 10 s it matches, after it the partial match expires", () => {
    const engine = engineWith(compile(connectThenShell("process")));
    assert.deepEqual(shape(feed(engine, [connect(0, curl), exec(10, curl)])), [
      ["net.connect:100", "process.exec:100"],
    ]);
    assert.deepEqual(shape(feed(engine, [connect(20, curl), exec(30.001, curl)])), []);
    assert.deepEqual(engine.statistics().perRule[0]?.sequence, { partial: 0, expired: 1, evicted: 0 });
    // An event of any kind the rule is on drops partial matches that have expired by its time.
    feed(engine, [connect(40, curl), connect(40, stranger)]);
    feed(engine, [at("net.connect", 60, { pid: 300, start: T0 }, { net: { remote: null } })]);
    assert.deepEqual(engine.statistics().sequences, {
      partial: 0,
      limits: { perRule: 1024, total: 16384 },
      expired: 3,
      evicted: 0,
    });
  });

  test("a newer start replaces an older one at the same step, so the window runs from the latest", () => {
    const engine = engineWith(compile(connectThenShell("process")));
    const alerts = feed(engine, [connect(0, curl), connect(5, curl), exec(14, curl)]);
    assert.deepEqual(
      alerts.map((a) => a.events.map((e) => e.time - T0)),
      [[5n * S, 14n * S]],
    );
    assert.equal(engine.statistics().sequences.partial, 0);
  });

  test("keys: process is the pid and its start time; tree takes descendants; session and container the cgroup", () => {
    const byProcess = engineWith(compile(connectThenShell("process")));
    assert.deepEqual(shape(feed(byProcess, [connect(0, curl), exec(1, child)])), []);
    // The same pid with another start time is another process.
    assert.deepEqual(shape(feed(byProcess, [exec(2, { ...curl, start: T0 + 2n * S })])), []);
    assert.deepEqual(shape(feed(byProcess, [exec(3, curl)])), [["net.connect:100", "process.exec:100"]]);

    const byTree = engineWith(compile(connectThenShell("tree")));
    assert.deepEqual(shape(feed(byTree, [connect(0, curl), exec(1, stranger)])), []);
    assert.deepEqual(shape(feed(byTree, [exec(2, grandchild)])), [["net.connect:100", "process.exec:102"]]);
    // A process whose ancestor has the anchor's pid but started before it: the pid was reused.
    const older: Proc = { pid: 103, start: T0 - 2n * S, parents: [100, 1] };
    assert.deepEqual(shape(feed(byTree, [connect(3, child), exec(4, older)])), []);
    // The child's connection is its own tree: its parent's shell is not in it.
    assert.deepEqual(shape(feed(byTree, [exec(5, curl)])), []);

    for (const by of ["session", "container"]) {
      const byCgroup = engineWith(compile(connectThenShell(by)));
      const elsewhere = { ...stranger, cgroup: 2n };
      assert.deepEqual(shape(feed(byCgroup, [connect(0, curl), exec(1, elsewhere)])), [], by);
      assert.deepEqual(shape(feed(byCgroup, [exec(2, stranger)])), [["net.connect:100", "process.exec:200"]], by);
    }
  });

  test("by container: the container id, whatever cgroup its processes are in; the cgroup on the host", () => {
    const engine = engineWith(compile(connectThenShell("container")));
    const inside = (kind: "net.connect" | "process.exec", s: number, p: Proc, id: string) =>
      kind === "net.connect"
        ? at("net.connect", s, p, {
            net: { family: "ipv4", remote: { address: "203.0.113.9", port: 4444 } },
            container: { id, runtime: "podman" },
          })
        : at("process.exec", s, { exe: "/bin/sh", ...p }, { container: { id, runtime: "podman" } });
    const web = "a".repeat(64);
    const db = "b".repeat(64);
    // The container's systemd put the shell in a cgroup of its own: still the same container.
    assert.deepEqual(
      shape(
        feed(engine, [
          inside("net.connect", 0, curl, web),
          inside("process.exec", 1, { ...stranger, cgroup: 7n }, web),
        ]),
      ),
      [["net.connect:100", "process.exec:200"]],
    );
    // Another container in the same cgroup id is another key; so is the host.
    assert.deepEqual(
      shape(
        feed(engine, [inside("net.connect", 2, curl, web), inside("process.exec", 3, stranger, db), exec(4, stranger)]),
      ),
      [],
    );
    assert.deepEqual(shape(feed(engine, [connect(5, curl), exec(6, stranger)])), [
      ["net.connect:100", "process.exec:200"],
    ]);
  });

  test("three steps: one event carries a partial match one step; exceptions keep an event from counting", () => {
    const rule = {
      id: "fetch-chmod-run",
      sequence: {
        within: "1m",
        by: "tree",
        steps: [
          { on: "net.connect", when: "true" },
          { on: "file.chmod", when: "file.path.startsWith('/tmp/')" },
          { on: "process.exec", when: "process.exe.startsWith('/tmp/')" },
        ],
      },
      exceptions: [{ name: "builds", when: "process.exe == '/tmp/build/run'" }],
    };
    const engine = engineWith(compile(rule));
    const chmod = (s: number, p: Proc) => at("file.chmod", s, p, { file: { path: "/tmp/x" } });
    const run = (s: number, p: Proc, exe = "/tmp/x") => at("process.exec", s, { ...p, exe });
    assert.deepEqual(shape(feed(engine, [connect(0, curl), run(1, child), chmod(2, child)])), []);
    assert.deepEqual(engine.statistics().perRule[0]?.sequence?.partial, 1);
    assert.deepEqual(shape(feed(engine, [run(3, child, "/tmp/build/run")])), []);
    assert.equal(engine.statistics().perRule[0]?.exempted, 1);
    assert.deepEqual(shape(feed(engine, [run(4, grandchild)])), [
      ["net.connect:100", "file.chmod:101", "process.exec:102"],
    ]);
  });

  test("bounded state: the least recently advanced partial match is evicted, per rule and in all", () => {
    const procs = [1, 2, 3, 4].map((i): Proc => ({ pid: 1000 + i, start: T0, parents: [1] }));
    const engine = engineWith(compile(connectThenShell("process")), { perRule: 3, total: 100 });
    feed(
      engine,
      procs.map((p, i) => connect(i, p)),
    );
    assert.deepEqual(engine.statistics().perRule[0]?.sequence, { partial: 3, expired: 0, evicted: 1 });
    // The first process's partial match was the one evicted.
    assert.deepEqual(shape(feed(engine, [exec(5, procs[0] as Proc)])), []);
    assert.deepEqual(shape(feed(engine, [exec(5, procs[1] as Proc)])), [["net.connect:1002", "process.exec:1002"]]);

    const two = compile(connectThenShell("process", "10s", "a"), connectThenShell("tree", "10s", "b"));
    const shared = engineWith(two, { perRule: 100, total: 3 });
    feed(
      shared,
      procs.slice(0, 2).map((p, i) => connect(i, p)),
    );
    const s = shared.statistics();
    // Two connections, a partial match each in each rule: the fourth finds the total spent, and
    // its rule makes room by evicting its own oldest.
    assert.deepEqual(
      s.perRule.map((r) => [r.rule, r.sequence?.partial, r.sequence?.evicted]),
      [
        ["a", 2, 0],
        ["b", 1, 1],
      ],
    );
    assert.deepEqual([s.sequences.partial, s.sequences.evicted], [3, 1]);
  });

  test("a reload keeps the partial matches of a policy that was not recompiled, and drops the others", () => {
    const policy = compile(connectThenShell("process"));
    const engine = engineWith(policy);
    feed(engine, [connect(0, curl)]);
    engine.swap(new PolicySet([policy], []));
    assert.equal(engine.statistics().sequences.partial, 1);
    engine.swap(new PolicySet([compile(connectThenShell("process"))], []));
    assert.equal(engine.statistics().sequences.partial, 0);
    assert.deepEqual(shape(feed(engine, [exec(1, curl)])), []);
  });
});

describe("sequence rules: validation", () => {
  test("each step's kinds and fields are checked, with positions; a message is checked on the last step", () => {
    const rule = connectThenShell("tree");
    rule.sequence.steps[0] = { on: "net.conect", when: "true" };
    (rule.sequence.steps[1] as { when: string }).when = "process.exe in lists.shells && file.path == ''";
    rule.message = "{{net.remote.address}}";
    assert.deepEqual(errors(rule), [
      "seq.json:23:21 connect-then-shell: sequence.steps[0].on: unknown event kind 'net.conect'; did you mean 'net.connect'?",
    ]);
    rule.sequence.steps[0] = { on: "net.connect", when: "net.remote.adress == ''" };
    assert.deepEqual(errors(rule), [
      "seq.json:24:24 connect-then-shell: sequence.steps[0].when (offset 0): unknown field 'net.remote.adress'; did you mean 'net.remote.address'?",
      "seq.json:28:55 connect-then-shell: sequence.steps[1].when (offset 31): these events have no 'file'",
      "seq.json:33:21 connect-then-shell: message (offset 0): unknown field 'net.remote.address'",
    ]);
  });

  test("a bad window, too few steps, and both forms at once", () => {
    const bad = connectThenShell("tree", "10 s");
    assert.deepEqual(errors(bad), [
      "seq.json:19:21 connect-then-shell: sequence.within: '10 s' must be a duration: a whole number of ms, s, m or h (e.g. 10s)",
    ]);
    assert.deepEqual(errors(connectThenShell("tree", "2h")), [
      "seq.json:19:21 connect-then-shell: sequence.within: 2h is longer than the longest window, 1h",
    ]);
    const short = connectThenShell("tree");
    short.sequence.steps.pop();
    assert.deepEqual(errors(short), ["seq.json:21:20 connect-then-shell: sequence.steps: needs at least 2"]);
    assert.deepEqual(errors({ ...connectThenShell("tree"), on: "file.open" }), [
      "seq.json:34:15 connect-then-shell: on: a sequence rule has no 'on': each step has its own",
    ]);
    assert.deepEqual(errors({ id: "nothing" }), [
      "seq.json:16:7 nothing: missing required field 'on'",
      "seq.json:16:7 nothing: missing required field 'when'",
    ]);
  });
});
