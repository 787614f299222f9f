import { readFileSync } from "node:fs";
import { join } from "node:path";
import { celEnv, parse, plan } from "@bufbuild/cel";
import { fromJson } from "../src/events/json.js";
import { type DeepPartial, sampleEvent } from "../src/events/samples.js";
import type { EventKind, EventOf, ProcessContext, VigilEvent } from "../src/events/schema.js";
import { installRoot } from "../src/paths.js";
import { ruleBindings } from "../src/sensor/policy/bindings.js";
import { loadPolicyPaths, PolicyEngine, PolicySet } from "../src/sensor/policy/index.js";

/**
 * Events per second through the policy engine on one core: the stock policies (policies/; or
 * BENCH_POLICIES=PATH, e.g. bench/policies/host.json) against a mix of events shaped like a
 * busy host's (opens most, then process and network events), or against recorded events
 * (BENCH_EVENTS=FILE, JSON lines as `vigil run --output` writes them). Also prints what
 * cel-es costs per evaluation, which the engine is built around; BENCH_NO_PREFILTER=1 runs
 * every test through cel-es.
 */

const scale = Number(process.env.BENCH_SCALE ?? 1);
const passes = Math.max(1, Math.round(10 * scale));

// A small deterministic generator, so that every run tests the same events.
let seed = 0x2545f491;
const random = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

/** One time in a hundred, a value that some rule is written to catch. */
const rarely = <T>(usual: readonly T[], suspicious: readonly T[]): T => pick(random() < 0.01 ? suspicious : usual);
const programs = [
  "/usr/bin/node",
  "/usr/bin/bash",
  "/usr/bin/python3.11",
  "/usr/bin/cat",
  "/usr/bin/git",
  "/usr/bin/make",
];
const readPaths = [
  "/usr/lib/x86_64-linux-gnu/libc.so.6",
  "/etc/ld.so.cache",
  "/etc/passwd",
  "/proc/self/status",
  "/home/dev/project/node_modules/zod/index.js",
  "/home/dev/project/src/index.ts",
  "/var/log/syslog",
  "/etc/nginx/nginx.conf",
  "/usr/share/zoneinfo/UTC",
];
const writePaths = ["/tmp/build/output.o", "/home/dev/project/dist/index.js", "/home/dev/.cache/x", "/dev/null"];
const oddPaths = ["/etc/shadow", "/root/.ssh/id_ed25519", "/home/dev/.bash_history", "/usr/bin/ls", "/etc/cron.d/x"];

/** The process context: usually one of `usual` programs, rarely one run from /tmp or started by a web server. */
function processContext(usual: readonly string[] = programs): DeepPartial<ProcessContext> {
  const exe = rarely(usual, ["/tmp/.x/agent"]);
  const comm = exe.slice(exe.lastIndexOf("/") + 1, exe.lastIndexOf("/") + 16);
  const pid = 1000 + Math.floor(random() * 30000);
  return {
    pid,
    tid: pid,
    ppid: 900,
    uid: rarely([0, 0, 1000], [1001]),
    euid: 0,
    comm,
    exe,
    args: [comm, "--flag", "/some/argument"],
    cwd: "/home/dev/project",
    cgroup_id: 4242n,
    start_time: 1_764_000_000_000_000_000n,
    ancestry: [
      { pid: 900, exe: rarely(["/usr/bin/bash", "/usr/lib/systemd/systemd"], ["/usr/sbin/nginx"]) },
      { pid: 850, exe: "/usr/sbin/sshd" },
      { pid: 1, exe: "/usr/lib/systemd/systemd" },
    ],
  };
}

function make<K extends EventKind>(kind: K, part: DeepPartial<EventOf<K>>, usual?: readonly string[]): VigilEvent {
  return sampleEvent(kind, {
    time: 1_764_000_000_000_000_000n,
    mono_time: 9_000_000_000n,
    process: processContext(usual),
    ...part,
  } as DeepPartial<EventOf<K>>);
}

const endpoint = () => ({
  address: pick(["10.0.0.5", "93.184.216.34", "127.0.0.1", "2001:db8::1"]),
  port: rarely([443, 80, 53, 5432], [3333]),
});
const clients = ["/usr/bin/node", "/usr/bin/python3.11", "/usr/bin/git", "/usr/lib/apt/methods/http"];

/** Kinds in the proportions a busy host delivers them with the default interest. */
const mix: [number, () => VigilEvent][] = [
  [
    45,
    () => {
      const write = random() < 0.3;
      return make("file.open", {
        file: {
          syscall: "openat",
          path: rarely(write ? writePaths : readPaths, oddPaths),
          write,
          truncate: write && random() < 0.2,
          flags: write ? 0o1101 : 0,
        },
      });
    },
  ],
  [8, () => make("process.exec", { exec: { fileless: rarely([false], [true]) } })],
  [8, () => make("process.fork", {})],
  [8, () => make("process.exit", {})],
  [10, () => make("net.connect", { net: { family: "ipv4", protocol: "tcp", remote: endpoint() } }, clients)],
  [
    5,
    () =>
      make("net.dns", { dns: { name: rarely(["example.com", "deb.debian.org"], ["pool.supportxmr.com"]) } }, clients),
  ],
  [4, () => make("file.unlink", { file: { path: rarely(writePaths, oddPaths) } })],
  [2, () => make("file.rename", { file: { old_path: rarely(writePaths, oddPaths), new_path: "/tmp/x" } })],
  [2, () => make("file.chmod", { file: { path: pick(writePaths), mode: rarely([0o644, 0o755], [0o4755]) } })],
  [2, () => make("proc.signal", { signal: { number: rarely([15, 0], [9]), target_pid: 4321 } })],
  [1, () => make("mem.exec_mapping", { mapping: { prot: 7 } }, ["/usr/bin/node", "/usr/bin/java"])],
  [
    1,
    () =>
      make("cred.change", { cred: { syscall: "setuid", new: { euid: 0 }, old: { euid: 1000 } } }, ["/usr/bin/sudo"]),
  ],
  [1, () => make("net.listen", { net: { family: "ipv4", local: endpoint() } }, clients)],
  [1, () => make("kernel.bpf", { bpf: { command: "prog_load" } }, ["/usr/lib/systemd/systemd"])],
  [1, () => make("ns.change", { ns: { syscall: "setns", namespaces: ["mnt"] } }, ["/usr/sbin/runc"])],
  [1, () => make("mem.memfd_create", { memfd: { name: "jit" } }, ["/usr/bin/node"])],
];

function syntheticEvents(count: number): VigilEvent[] {
  const total = mix.reduce((n, [w]) => n + w, 0);
  const out: VigilEvent[] = [];
  for (let i = 0; i < count; i++) {
    let r = random() * total;
    for (const [weight, make] of mix) {
      r -= weight;
      if (r < 0) {
        out.push(make());
        break;
      }
    }
  }
  return out;
}

const recorded = process.env.BENCH_EVENTS;
const events: VigilEvent[] = recorded
  ? readFileSync(recorded, "utf8")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => fromJson(l) as VigilEvent)
      .filter((e) => (e.kind as string) !== "alert")
  : syntheticEvents(20_000);

// The stock policies by default; BENCH_POLICIES=PATH for others (bench/policies/host.json: 35 rules over 19 kinds).
const policyPath = process.env.BENCH_POLICIES ?? join(installRoot, "policies");
const loaded = loadPolicyPaths([policyPath]);
if (loaded.errors.length > 0) throw new Error(`bench policies do not compile: ${JSON.stringify(loaded.errors)}`);
const engine = new PolicyEngine();
// BENCH_NO_PREFILTER=1: every test goes to cel-es (no prefilters of conditions, steps or
// exceptions, no index by prefix), to see what they save.
const noPrefilter = process.env.BENCH_NO_PREFILTER === "1";
const policies = noPrefilter
  ? loaded.policies.map((p) => ({
      ...p,
      rules: p.rules.map((r) => ({
        ...r,
        prefilters: new Map(),
        prefixes: new Map(),
        exceptions: r.exceptions.map((e) => ({ ...e, prefilters: new Map() })),
        ...(r.sequence && {
          sequence: { ...r.sequence, steps: r.sequence.steps.map((s) => ({ ...s, prefilters: new Map() })) },
        }),
      })),
    }))
  : loaded.policies;
engine.swap(new PolicySet(policies, []));

let alerts = 0;
const emit = () => {
  alerts++;
};
// Warm up the JIT on the same events, then measure.
for (const e of events) engine.evaluate(e, emit);
alerts = 0;
const cpu0 = process.cpuUsage();
const start = process.hrtime.bigint();
for (let p = 0; p < passes; p++) for (const e of events) engine.evaluate(e, emit);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const cpu = process.cpuUsage(cpu0);
const evaluated = events.length * passes;
const stats = engine.statistics();
const tests = stats.perRule.reduce((n, r) => n + r.tested, 0);
const errors = stats.perRule.reduce((n, r) => n + r.errors, 0);

/** ns per call of f, over n calls. */
function perCall(f: () => unknown, n = 300_000): number {
  for (let i = 0; i < n / 10; i++) f();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) f();
  return Number(process.hrtime.bigint() - t0) / n;
}
const sample = sampleEvent("file.open", { process: { exe: "/usr/bin/cat" }, file: { path: "/etc/passwd" } });
const env = celEnv();
const condition = plan(env, parse("file.path == '/etc/shadow' && process.uid == 0"));
const bindings = ruleBindings("file.open", new Map());
bindings.event = sample;
const cel = {
  plainObject: perCall(() => condition(sample as unknown as Parameters<typeof condition>[0])),
  bindings: perCall(() => condition(bindings as unknown as Parameters<typeof condition>[0])),
  constantTrue: perCall(
    (
      (f) => () =>
        f()
    )(plan(env, parse("true"))),
  ),
};

const line = {
  bench: "policy",
  source: recorded ? `recorded (${recorded})` : "synthetic",
  policies: policyPath,
  prefilters: !noPrefilter,
  events: evaluated,
  rules: stats.rules,
  events_per_sec: Math.round(evaluated / seconds),
  ns_per_event: Math.round((seconds * 1e9) / evaluated),
  rule_tests_per_event: +(tests / (evaluated + events.length)).toFixed(2),
  ns_per_rule_test: Math.round((seconds * 1e9) / (tests * (evaluated / (evaluated + events.length)))),
  alerts_per_sec: Math.round(alerts / seconds),
  evaluation_errors: errors,
  cpu_s: +((cpu.user + cpu.system) / 1e6).toFixed(2),
  cel_ns_whole_event_object: Math.round(cel.plainObject),
  cel_ns_dotted_bindings: Math.round(cel.bindings),
  cel_ns_constant_true: Math.round(cel.constantTrue),
};
console.log(
  `policy: ${line.events_per_sec.toLocaleString("en-US")} events/s on one core (${line.ns_per_event} ns/event) ` +
    `with ${line.rules} rules over ${line.source} events${noPrefilter ? ", no prefilters" : ""}; ` +
    `${line.rule_tests_per_event} rule tests per event ` +
    `at ${line.ns_per_rule_test} ns each, ${line.alerts_per_sec.toLocaleString("en-US")} alerts/s, ${errors} evaluation errors`,
);
console.log(
  `  cel-es per evaluation of \`file.path == '/etc/shadow' && process.uid == 0\`: ${line.cel_ns_whole_event_object} ns ` +
    `on the event object, ${line.cel_ns_dotted_bindings} ns on dotted bindings; \`true\`: ${line.cel_ns_constant_true} ns`,
);
const loud = [...stats.perRule].sort((a, b) => b.matched - a.matched).filter((r) => r.matched > 0);
console.log(`  alerts by rule: ${loud.map((r) => `${r.rule} ${r.matched}`).join(", ") || "none"}`);
console.log(JSON.stringify(line));
