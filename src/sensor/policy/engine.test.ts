import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { Alert } from "../../events/alert.js";
import { fromJson } from "../../events/json.js";
import { type DeepPartial, sampleEvent } from "../../events/samples.js";
import type { EventKind, EventOf, VigilEvent } from "../../events/schema.js";
import { alertToJson } from "../../events/serialize.js";
import { installRoot } from "../../paths.js";
import { type CompiledPolicy, compilePolicyFile } from "./compile.js";
import { loadPolicyPaths } from "./directory.js";
import { PolicyEngine, PolicySet } from "./engine.js";
import { formatPolicyError } from "./source.js";

type Rule = Record<string, unknown> & { id: string; on: string | string[]; when: string };

function compile(rules: Rule[], spec: Record<string, unknown> = {}, name = "test"): CompiledPolicy {
  const text = JSON.stringify({
    apiVersion: "vigil.dev/v1",
    kind: "Policy",
    metadata: { name },
    spec: { ...spec, rules },
  });
  const result = compilePolicyFile(`${name}.json`, text);
  if (!result.policy) throw new Error(result.errors.map(formatPolicyError).join("\n"));
  return result.policy;
}

function engineWith(...policies: CompiledPolicy[]): PolicyEngine {
  const engine = new PolicyEngine({ clock: () => 1_764_000_000_002_000_000n });
  engine.swap(new PolicySet(policies, []));
  return engine;
}

function alertsOf(engine: PolicyEngine, event: VigilEvent): Alert[] {
  const out: Alert[] = [];
  engine.evaluate(event, (a) => out.push(a));
  return out;
}

const cat = {
  pid: 4243,
  tid: 4243,
  ppid: 4100,
  uid: 1000,
  euid: 1000,
  comm: "cat",
  exe: "/usr/bin/cat",
  args: ["cat", "/etc/shadow"],
  cwd: "/home/dev",
  cgroup_id: 1234n,
  start_time: 1_764_000_000_000_000_000n,
  ancestry: [
    { pid: 4100, exe: "/usr/bin/bash" },
    { pid: 1, exe: "/sbin/init" },
  ],
};

function event<K extends EventKind>(kind: K, part?: DeepPartial<EventOf<K>>): EventOf<K> {
  return sampleEvent(kind, { time: 1_764_000_000_001_000_000n, process: cat, ...part } as DeepPartial<EventOf<K>>);
}

const shadowRead = () =>
  event("file.open", { file: { path: "/etc/shadow", result: 3, inode: 1_234_567_890_123_456_789n } });

function stats(engine: PolicyEngine, rule: string) {
  const found = engine.statistics().perRule.find((r) => r.rule === rule);
  assert.ok(found, `no statistics for ${rule}`);
  return found;
}

describe("alerts", () => {
  test("one alert per match: rule, rendered message, what was asked and done, the event with its process", () => {
    const policy = compile(
      [
        {
          id: "read-shadow",
          on: "file.open",
          when: "file.path == '/etc/shadow' && !(process.exe in lists.shadow_readers)",
          action: "deny",
          severity: "high",
          tags: ["attack.T1003.008"],
          message: "{{process.exe}} opened {{file.path}} as {{process.args}} (uid {{process.uid}})",
        },
      ],
      { mode: "enforce", lists: { shadow_readers: ["/usr/sbin/unix_chkpwd"] } },
      "sensitive-files",
    );
    const engine = engineWith(policy);
    const opened = shadowRead();
    const [alert, ...more] = alertsOf(engine, opened);
    assert.equal(more.length, 0);
    assert.deepEqual(alert, {
      kind: "alert",
      time: 1_764_000_000_002_000_000n,
      rule: { id: "read-shadow", policy: "sensitive-files", severity: "high", tags: ["attack.T1003.008"] },
      message: "/usr/bin/cat opened /etc/shadow as cat /etc/shadow (uid 1000)",
      action: "deny",
      // Enforcement is not driven by the engine: the policy's enforce mode runs as audit.
      outcome: "would_deny",
      container: null,
      k8s: null,
      events: [opened],
    });
    assert.deepEqual(alertsOf(engine, event("file.open", { file: { path: "/etc/passwd" } })), []);
  });

  test("the outcome says what was done for each action", () => {
    const engine = engineWith(
      compile([
        { id: "a", on: "process.exec", when: "true", action: "alert" },
        { id: "d", on: "process.exec", when: "true", action: "deny" },
        { id: "k", on: "process.exec", when: "true", action: "kill" },
      ]),
    );
    assert.deepEqual(
      alertsOf(engine, event("process.exec")).map((a) => [a.rule.id, a.outcome]),
      [
        ["a", "alerted"],
        ["d", "would_deny"],
        ["k", "would_kill"],
      ],
    );
  });

  test("an alert is one JSON line, its event's 64-bit integers exact", () => {
    const [alert] = alertsOf(engineWith(compile([{ id: "r", on: "file.open", when: "true" }])), shadowRead());
    assert.ok(alert);
    const line = alertToJson(alert);
    assert.match(line, /^\{"kind":"alert","time":1764000000002000000,"rule":\{"id":"r","policy":"test",/);
    const read = fromJson(line) as Alert;
    assert.equal((read.events[0] as EventOf<"file.open">).file.inode, 1_234_567_890_123_456_789n);
    assert.equal(read.events[0]?.time, 1_764_000_000_001_000_000n);
    assert.deepEqual(read.rule, alert.rule);
  });

  test("disabled rules are not tested", () => {
    const engine = engineWith(compile([{ id: "off", on: "file.open", when: "true", enabled: false }]));
    assert.deepEqual(alertsOf(engine, shadowRead()), []);
    assert.equal(stats(engine, "off").tested, 0);
    assert.equal(stats(engine, "off").enabled, false);
  });
});

describe("evaluation", () => {
  test("rules are indexed by kind: an event is tested only against rules on its kind", () => {
    const engine = engineWith(
      compile([
        { id: "opens", on: "file.open", when: "true" },
        { id: "execs", on: ["process.exec", "mem.memfd_exec"], when: "true" },
      ]),
    );
    alertsOf(engine, shadowRead());
    alertsOf(engine, event("mem.memfd_exec"));
    assert.equal(stats(engine, "opens").tested, 1);
    assert.equal(stats(engine, "execs").tested, 1);
  });

  test("64-bit integers are CEL ints: comparisons past 2^53, arithmetic, uint literals", () => {
    const engine = engineWith(
      compile([
        { id: "inode", on: "file.open", when: "file.inode == 1234567890123456789" },
        { id: "inode-uint", on: "file.open", when: "file.inode == 1234567890123456789u" },
        { id: "inode-off-by-one", on: "file.open", when: "file.inode == 1234567890123456788" },
        { id: "time", on: "file.open", when: "time > 1764000000000000000 && time - process.start_time == 1000000" },
        { id: "cgroup", on: "file.open", when: "process.cgroup_id > 1000 && process.cgroup_id % 2 == 0" },
        { id: "uid-arith", on: "file.open", when: "process.uid + 1 == 1001 && file.result * 2 == 6" },
        { id: "ancestry", on: "file.open", when: "process.ancestry.exists(a, a.pid == 1 && a.exe == '/sbin/init')" },
      ]),
    );
    assert.deepEqual(
      alertsOf(engine, shadowRead()).map((a) => a.rule.id),
      ["inode", "inode-uint", "time", "cgroup", "uid-arith", "ancestry"],
    );
  });

  test("bigint parts of other kinds: namespace flags, capability masks", () => {
    const engine = engineWith(
      compile([
        { id: "newns", on: "ns.change", when: "ns.flags == 131072 && 'mnt' in ns.namespaces" },
        { id: "caps", on: "cred.change", when: "cred.new.cap_effective > cred.old.cap_effective" },
      ]),
    );
    const ns = event("ns.change", { ns: { syscall: "unshare", flags: 131_072n, namespaces: ["mnt"] } });
    assert.deepEqual(
      alertsOf(engine, ns).map((a) => a.rule.id),
      ["newns"],
    );
    const cred = event("cred.change", { cred: { new: { cap_effective: 1n << 40n }, old: { cap_effective: 0n } } });
    assert.deepEqual(
      alertsOf(engine, cred).map((a) => a.rule.id),
      ["caps"],
    );
  });

  test("lists of strings and of integers, macros, and macros that use macros", () => {
    const engine = engineWith(
      compile(
        [
          { id: "in-list", on: "file.open", when: "process.exe in lists.readers && process.uid in lists.uids" },
          {
            id: "prefixes",
            on: "file.open",
            when: "lists.dirs.exists(d, file.path.startsWith(d)) && size(lists.dirs) == 2",
          },
          { id: "macro", on: "file.open", when: "sensitive_by_user" },
          { id: "no", on: "file.open", when: "process.exe in lists.uids_as_text" },
        ],
        {
          lists: {
            readers: ["/usr/bin/cat", "/usr/bin/less"],
            uids: [0, 1000],
            dirs: ["/etc/", "/root/"],
            uids_as_text: ["1000"],
          },
          macros: { sensitive: "file.path.startsWith('/etc/')", sensitive_by_user: "sensitive && process.uid >= 1000" },
        },
      ),
    );
    assert.deepEqual(
      alertsOf(engine, shadowRead()).map((a) => a.rule.id),
      ["in-list", "prefixes", "macro"],
    );
  });

  test("exceptions exempt and are counted; an exception that fails does not exempt", () => {
    const engine = engineWith(
      compile([
        {
          id: "exempted",
          on: "file.open",
          when: "true",
          exceptions: [
            { name: "other", when: "process.exe == '/usr/bin/less'" },
            { name: "cat", when: "process.exe == '/usr/bin/cat'" },
          ],
        },
        {
          id: "failing-exception",
          on: "file.open",
          when: "true",
          exceptions: [{ name: "null-mode", when: "file.mode > 0" }],
        },
      ]),
    );
    assert.deepEqual(
      alertsOf(engine, shadowRead()).map((a) => a.rule.id),
      ["failing-exception"],
    );
    assert.equal(stats(engine, "exempted").exempted, 1);
    assert.equal(stats(engine, "exempted").matched, 0);
    const failing = stats(engine, "failing-exception");
    assert.equal(failing.errors, 1);
    assert.equal(
      failing.lastError,
      "exception 'null-mode': found no matching overload for '_>_' applied to '(null_type, int)'",
    );
  });

  test("evaluation errors are counted per rule and never thrown", () => {
    const engine = engineWith(
      compile([
        { id: "null-compare", on: "file.open", when: "file.mode > 0" },
        { id: "overflow", on: "file.open", when: "9223372036854775807 + process.uid > 0" },
        { id: "not-bool", on: "file.open", when: "{'a': process.uid}['a']" },
        { id: "fine", on: "file.open", when: "true" },
      ]),
    );
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(
        alertsOf(engine, shadowRead()).map((a) => a.rule.id),
        ["fine"],
      );
    }
    assert.equal(stats(engine, "null-compare").errors, 3);
    assert.match(stats(engine, "overflow").lastError ?? "", /overflow/);
    assert.equal(stats(engine, "not-bool").lastError, "yielded 1000, not bool");
    assert.equal(stats(engine, "fine").errors, 0);
  });

  test("a field below a null one is null, not an error: net.remote.port of an unknown remote", () => {
    const engine = engineWith(
      compile([
        { id: "port", on: "net.connect", when: "net.remote.port == 443" },
        { id: "no-remote", on: "net.connect", when: "net.remote == null && !has(net.remote.port)" },
      ]),
    );
    const unknown = event("net.connect", { net: { remote: null } });
    assert.deepEqual(
      alertsOf(engine, unknown).map((a) => a.rule.id),
      ["no-remote"],
    );
    assert.equal(stats(engine, "port").errors, 0);
    const https = event("net.connect", { net: { family: "ipv4", remote: { address: "93.184.216.34", port: 443 } } });
    assert.deepEqual(
      alertsOf(engine, https).map((a) => a.rule.id),
      ["port"],
    );
  });

  test("time spent is estimated from every 64th test", () => {
    const engine = engineWith(compile([{ id: "r", on: "file.open", when: "file.path.endsWith('shadow')" }]));
    const opened = shadowRead();
    for (let i = 0; i < 640; i++) engine.evaluate(opened, () => {});
    const r = stats(engine, "r");
    assert.equal(r.tested, 640);
    assert.equal(r.matched, 640);
    assert.ok(r.timeNs > 0);
  });
});

/** The policy with every test through cel-es: no prefilters (of conditions, steps, exceptions), no index by prefix. */
const withoutPrefilters = (policy: CompiledPolicy): CompiledPolicy => ({
  ...policy,
  rules: policy.rules.map((r) => ({
    ...r,
    prefilters: new Map(),
    prefixes: new Map(),
    exceptions: r.exceptions.map((e) => ({ ...e, prefilters: new Map() })),
    ...(r.sequence && {
      sequence: {
        ...r.sequence,
        steps: r.sequence.steps.map((step) => ({ ...step, prefilters: new Map(), prefixes: new Map() })),
      },
    }),
  })),
});

/** The alerts and counters of a policy over events, with its prefilters and without. */
function bothWays(given: CompiledPolicy | CompiledPolicy[], events: readonly VigilEvent[]) {
  const policies = Array.isArray(given) ? given : [given];
  const outcome = (engine: PolicyEngine) => {
    const alerts = events.map((e) =>
      alertsOf(engine, e)
        .map((a) => a.rule.id)
        .join(","),
    );
    const counters = engine.statistics().perRule.map((r) => [r.rule, r.matched, r.errors, r.exempted, r.tested]);
    return { alerts, counters };
  };
  return {
    fast: outcome(engineWith(...policies)),
    slow: outcome(engineWith(...policies.map(withoutPrefilters))),
  };
}

describe("prefilters", () => {
  /** The bench's host rule set: every kind of condition a stock set has. */
  function hostPolicy(): CompiledPolicy {
    const file = join(installRoot, "bench/policies/host.json");
    const result = compilePolicyFile(file, readFileSync(file, "utf8"));
    assert.ok(result.policy, result.errors.map(formatPolicyError).join("\n"));
    return result.policy;
  }

  let seed = 7;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const paths = [
    "/etc/shadow",
    "/etc/passwd",
    "/etc/cron.d/x",
    "/root/.ssh/id_rsa",
    "/home/a/.ssh/id_ed25519",
    "/var/log/syslog",
    "/tmp/x",
    "/usr/bin/ls",
    "/home/a/.bash_history",
  ];
  const exes = [
    "/usr/bin/bash",
    "/usr/bin/cat",
    "/tmp/x",
    "/usr/bin/dpkg",
    "/usr/sbin/nginx",
    "/usr/bin/node",
    "/usr/bin/ssh",
  ];

  /** Events of the kinds the host set has most rules on, with values its rules look for. */
  function mixedEvents(count: number): VigilEvent[] {
    const events: VigilEvent[] = [];
    for (let i = 0; i < count; i++) {
      const process = { ...cat, exe: pick(exes), uid: pick([0, 1000]), ancestry: [{ pid: 1, exe: pick(exes) }] };
      const path = pick(paths);
      events.push(
        pick([
          () =>
            event("file.open", {
              process,
              file: { path, write: random() < 0.5, truncate: random() < 0.2, result: pick([3, -2]) },
            }),
          () => event("file.unlink", { process, file: { path, result: pick([0, -2]) } }),
          () => event("file.chmod", { process, file: { path, mode: pick([0o4755, 0o644]), result: 0 } }),
          () =>
            event("process.exec", {
              process: { ...process, args: [pick(["sh", "bash"]), "-c", pick(["curl x | sh", "ls"])] },
            }),
          () =>
            event("net.connect", {
              process,
              net: {
                family: "ipv4",
                result: 0,
                remote: pick([null, { address: "10.0.0.1", port: pick([443, 3333]) }]),
              },
            }),
          () => event("proc.signal", { process, signal: { number: pick([9, 15]), result: 0 } }),
          () =>
            event("cred.change", { process, cred: { result: 0, new: { euid: 0 }, old: { euid: pick([0, 1000]) } } }),
        ])(),
      );
    }
    return events;
  }

  test("rules start with what plain JavaScript can test", () => {
    const without = hostPolicy()
      .rules.filter((r) => r.prefilters.size === 0)
      .map((r) => r.id);
    // Comprehensions over lists are tested ahead too (`exists` with the element bound).
    assert.deepEqual(without, []);
  });

  test("a prefilter never changes a result: the host set gives the same alerts and errors with and without", () => {
    const { fast, slow } = bothWays(hostPolicy(), mixedEvents(2000));
    assert.deepEqual(fast, slow);
    assert.ok(fast.alerts.filter(Boolean).length > 100, "the events should make rules match");
  });

  test("nor for each shape it reads: negation, either order, int ranges, literal lists, null, bool fields", () => {
    const conditions = [
      "!(process.exe in ['/usr/bin/cat', '/tmp/x'])",
      "1000 == process.uid || file.path == '/etc/passwd'",
      "process.uid >= 1000 && 500 < process.uid",
      "!file.write && file.result != -2",
      "file.error == null && !(file.path.endsWith('shadow') || file.path.contains('.ssh'))",
      "file.mode != null || file.inode > 0",
      "process.exe.startsWith('/tmp/') && process.ancestry.exists(a, a.exe == '/usr/bin/node')",
      "file.mode > 0 || file.write",
      "lists.dirs.exists(d, file.path.startsWith(d)) && !lists.names.exists(n, file.path.endsWith('/' + n))",
      "['/etc/shadow', '/etc/passwd'].exists(p, file.path == p || p == process.exe)",
      "process.ancestry.exists(a, lists.names.exists(n, a.exe.endsWith('/' + n + '')))",
      "process.args.exists(a, a in lists.dirs || a.contains('sh'))",
      "file.path.matches(r'^/home/[^/]+/\\.ssh/id_') || file.path.matches(r'^/root/\\.ssh/id_[^/]+$')",
      "!file.path.matches('^/tmp/x?y')",
      "file.error != null && file.error.startsWith('E')",
      "lists.ints.exists(i, process.uid == i)",
    ];
    const lists = {
      dirs: ["/etc/", "/tmp/", "/home/a/.ssh", ""],
      names: ["shadow", "id_rsa", "bash", "x", "/"],
      ints: [0, 1001],
    };
    const policy = compile(
      conditions.map((when, i) => ({ id: `c${i}`, on: "file.open", when })),
      { lists },
    );
    // All but c7 (`file.mode` may be null, so its side of the || cannot be tested ahead) and the
    // negated regex (a `matches` prefix only says "cannot match", so its negation is unknown).
    assert.deepEqual(
      policy.rules.filter((r) => r.prefilters.size === 0).map((r) => r.id),
      ["c7", "c13"],
    );
    // Edge cases: an exact prefix, one character off, the empty path, a null error, empty lists.
    const edges = [
      "/etc/",
      "/etc",
      "/etc/shadow",
      "/etc/shadoW",
      "",
      "/",
      "/home/a/.ssh",
      "/home/a/.ssh/id_rsa",
      "/home/a/.sshx",
      "/home//.ssh/id_x",
      "/root/.ssh/id_",
      "/root/.ssh/id_a/b",
      "/tmp/y",
      "/tmp/xy",
      "/tmp/x",
      "/usr/bin/bash",
    ].flatMap((path) =>
      [null, "EACCES", ""].flatMap((error) =>
        [[], ["/etc/", "sh"], ["x"]].map((args) =>
          event("file.open", {
            process: {
              ...cat,
              exe: path,
              uid: path.length % 2 === 0 ? 0 : 1001,
              args,
              ancestry: path === "" ? [] : [{ pid: 1, exe: `/usr/bin/${path.slice(-1)}` }],
            },
            file: { path, error, result: error === null ? 3 : -13 },
          }),
        ),
      ),
    );
    const { fast, slow } = bothWays(policy, [...mixedEvents(1500).filter((e) => e.kind === "file.open"), ...edges]);
    assert.deepEqual(fast, slow);
    // The new shapes (c8 on) both match and miss on these events.
    assert.ok(
      fast.counters.slice(8).every(([, matched]) => (matched as number) > 0),
      JSON.stringify(fast.counters),
    );
  });
});

describe("prefilters of list elements, patterns, exceptions and the index by prefix", () => {
  const lists = {
    names: ["bash", "node", "python", "x"],
    odd: ["/", "a/b", "", "sh"],
    dirs: ["/etc/", "/home/", "/tmp/x", ""],
    ints: [0, 1001, 65534],
  };
  const conditions = [
    "size(process.ancestry) > 0 && process.ancestry[0].exe.endsWith('/bash')",
    "process.ancestry.size() >= 2 && process.ancestry[1].exe == '/sbin/init'",
    "0 < size(process.ancestry) && lists.names.exists(n, process.ancestry[0].exe.endsWith('/' + n))",
    "size(process.ancestry) != 0 && !(process.ancestry[0].exe in lists.dirs)",
    "process.args.exists(a, a.lowerAscii().startsWith('exec:') || a.lowerAscii() == 'system:')",
    "lists.ints.exists(i, process.uid == i) && !lists.ints.exists(i, i < process.euid)",
    "size(process.args) > 1 && process.args[1] == '-c' || size(process.args) == 0",
    "file.path.matches(r'^/home/[^/]+/\\.ssh/id_[^/]+$') || file.path.matches(r'^/home/[^/]*/\\.config/x/')",
    "file.path.matches(r'^/etc/rc[0-6S]\\.d/') || file.path.matches(r'^/root/\\.ssh/authorized_keys2?$')",
    "lists.names.exists(n, process.exe.endsWith('/' + n) || process.exe.matches('/' + n + '[0-9.]+$'))",
    "lists.odd.exists(n, process.exe.endsWith('/' + n)) || lists.odd.exists(n, n == process.comm)",
    "process.args.exists(a, lists.names.exists(n, a.contains(n)))",
    "lists.dirs.exists(d, file.path.startsWith(d + 'a')) || lists.dirs.exists(d, d == file.path)",
    "file.inode == 1234567890123456788 || !(file.inode in [9007199254740993]) && file.inode > 9007199254740992",
    "!(file.inode == 1234567890123456788) && file.inode != 1234567890123456789",
  ];
  const policy = () =>
    compile(
      conditions.map((when, i) => ({
        id: `s${i}`,
        on: "file.open",
        when,
        exceptions: [
          { name: "node", when: "process.exe.endsWith('/node') || process.ancestry.exists(a, a.exe == '/a/b')" },
        ],
      })),
      { lists },
    );

  /** Processes and paths near what the conditions look for: on them, one character off, and empty. */
  function events(): VigilEvent[] {
    const exes = ["/usr/bin/bash", "/usr/bin/node", "/usr/bin/python3.11", "/usr/bin/pythonx", "/x", "bash", "", "/"];
    const parents = [[], ["/usr/bin/bash"], ["/usr/bin/dash", "/sbin/init"], ["/etc/", "/sbin/init"], ["/a/b"]];
    const argLists = [[], ["sh", "-c"], ["socat", "EXEC:/bin/sh"], ["x", "SyStEm:"], ["-c"], ["nodejs"]];
    const paths = [
      "/home/a/.ssh/id_rsa",
      "/home/a/.ssh/id_rsa/x",
      "/home//.ssh/id_rsa",
      "/home/a/.config/x/y",
      "/home//.config/x/",
      "/home/a/b/.config/x/",
      "/etc/rc3.d/S01x",
      "/etc/rc7.d/x",
      "/root/.ssh/authorized_keys2",
      "/root/.ssh/authorized_keys3",
      "/etc/a",
      "/home/",
      "/tmp/xa",
      "",
    ];
    const inodes = [1234567890123456788n, 1234567890123456789n, 9007199254740993n, 9007199254740992n, 7n];
    const out: VigilEvent[] = [];
    let i = 0;
    for (const exe of exes) {
      for (const path of paths) {
        i++;
        out.push(
          event("file.open", {
            process: {
              ...cat,
              exe,
              comm: exe.slice(exe.lastIndexOf("/") + 1),
              uid: [0, 1001, 5][i % 3],
              euid: [0, 1001, 65535][i % 3],
              args: argLists[i % argLists.length],
              ancestry: (parents[i % parents.length] ?? []).map((a, pid) => ({ pid: pid + 1, exe: a })),
            },
            file: { path, inode: inodes[i % inodes.length] },
          }),
        );
      }
    }
    return out;
  }

  test("each new shape has a prefilter, and no prefilter, exception's or index changes a result", () => {
    const compiled = policy();
    assert.deepEqual(
      compiled.rules.filter((r) => r.prefilters.size === 0).map((r) => r.id),
      [],
    );
    assert.ok(compiled.rules.every((r) => r.exceptions[0]?.prefilters.size === 1));
    const { fast, slow } = bothWays(compiled, events());
    assert.deepEqual(fast, slow);
    // Each condition both matches and misses, and the exception exempts some of them.
    const total = events().length;
    for (const [rule, matched, , exempted] of fast.counters) {
      assert.ok((matched as number) > 0 && (matched as number) < total, `${rule} matched ${matched}`);
      void exempted;
    }
    assert.ok(fast.counters.some(([, , , exempted]) => (exempted as number) > 0));
  });

  test("the index by prefix passes over rules a path cannot match and counts them as tested", () => {
    const compiled = compile(
      [
        { id: "etc", on: "file.open", when: "file.path.startsWith('/etc/') && file.write" },
        { id: "shadow", on: "file.open", when: "file.path in ['/etc/shadow', '/etc/gshadow']" },
        { id: "any", on: "file.open", when: "file.write" },
        { id: "home", on: "file.open", when: "lists.dirs.exists(d, file.path.startsWith(d)) && file.write" },
      ],
      { lists: { dirs: ["/home/", "/root/"] } },
    );
    const engine = engineWith(compiled);
    const opens = ["/etc/shadow", "/etc/passwd", "/home/a/x", "/usr/lib/libc.so.6", "/etc"].map((path) =>
      event("file.open", { file: { path, write: true } }),
    );
    assert.deepEqual(
      opens.map((e) => alertsOf(engine, e).map((a) => a.rule.id)),
      [["etc", "shadow", "any"], ["etc", "any"], ["any", "home"], ["any"], ["any"]],
    );
    assert.deepEqual(
      engine.statistics().perRule.map((r) => [r.rule, r.tested]),
      [
        ["etc", 5],
        ["shadow", 5],
        ["any", 5],
        ["home", 5],
      ],
    );
  });

  test("the stock set gives the same alerts, exemptions and errors with and without", () => {
    const stock = loadPolicyPaths([join(installRoot, "policies")]);
    assert.deepEqual(stock.errors, []);
    const { fast, slow } = bothWays(stock.policies, stockEvents(4000));
    assert.deepEqual(fast, slow);
    const matched = fast.counters.filter(([, m]) => (m as number) > 0).map(([rule]) => rule);
    assert.ok(matched.length >= 40, `only ${matched.length} stock rules matched: ${matched.join(", ")}`);
  });
});

/**
 * The stock rules' own examples (events that must match and look-alikes that must not), then
 * `count` variations of them: each string, number, flag and list changed now and then to a value
 * some stock rule names (from its lists and conditions), to one character off, to the same below
 * a home directory, or to nothing, so that events fall on both sides of every test.
 */
function stockEvents(count: number): VigilEvent[] {
  const dir = join(installRoot, "policies");
  const named = new Set<string>();
  for (const file of readdirSync(dir)) {
    const text = readFileSync(join(dir, file), "utf8");
    const lists = (JSON.parse(text) as { spec: { lists?: Record<string, (string | number)[]> } }).spec.lists ?? {};
    for (const values of Object.values(lists)) for (const v of values) if (typeof v === "string") named.add(v);
    for (const m of text.matchAll(/'([^'\\]*)'/g)) named.add(m[1] as string);
  }
  const strings = [...named];
  const seeds = loadPolicyPaths([dir]).policies.flatMap((p) =>
    p.rules.flatMap((r) => [...(r.examples?.match ?? []), ...(r.examples?.ignore ?? [])]),
  );
  let seed = 11;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31;
  };
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  /** Fields that tie a sequence's events together or name the kind: kept as they are. */
  const fixed = new Set(["kind", "time", "mono_time", "pid", "tid", "ppid", "start_time", "cgroup_id"]);
  const vary = (value: unknown, key: string): unknown => {
    if (fixed.has(key)) return value;
    if (Array.isArray(value)) {
      const items = value.map((v) => vary(v, key));
      if (random() < 0.1) items.pop();
      if (random() < 0.1 && items.length > 0) items.push(items[0]);
      return items;
    }
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, vary(v, k)]));
    }
    if (random() < 0.7) return value;
    switch (typeof value) {
      case "string":
        return pick([
          pick(strings),
          pick(strings),
          `${value}x`,
          value.slice(0, -1),
          `/home/dev${value}`,
          `/root/${value}`,
          value.toUpperCase(),
          "",
        ]);
      case "number":
        return pick([0, 3, -2, -115, 1000, 0o4755, 443, 3333]);
      case "boolean":
        return !value;
      case "bigint":
        return pick([0n, 1n << 21n, -13n]);
      default:
        return value;
    }
  };
  const out = seeds.flat();
  for (let i = 0; i < count; i++) out.push(...(pick(seeds).map((e) => vary(e, "")) as VigilEvent[]));
  return out;
}

describe("swapping sets", () => {
  test("an event is tested against one set, even when a new one is put in force while it is tested", () => {
    const old = compile(
      [
        { id: "a1", on: "file.open", when: "true" },
        { id: "a2", on: "file.open", when: "true" },
      ],
      {},
      "old",
    );
    const next = compile(
      [
        { id: "b1", on: "file.open", when: "true" },
        { id: "b2", on: "file.open", when: "true" },
      ],
      {},
      "new",
    );
    const engine = engineWith(old);
    const seen: string[] = [];
    // The first alert puts the new set in force, in the middle of the event's rules.
    engine.evaluate(shadowRead(), (a) => {
      seen.push(a.rule.id);
      engine.swap(new PolicySet([next], []));
    });
    assert.deepEqual(seen, ["a1", "a2"]);
    assert.deepEqual(
      alertsOf(engine, shadowRead()).map((a) => a.rule.id),
      ["b1", "b2"],
    );
  });

  test("a rule that stays keeps its counters; one that goes takes them along", () => {
    const engine = engineWith(
      compile([
        { id: "stays", on: "file.open", when: "true" },
        { id: "goes", on: "file.open", when: "true" },
      ]),
    );
    alertsOf(engine, shadowRead());
    engine.swap(new PolicySet([compile([{ id: "stays", on: "file.open", when: "file.path != ''" }])], []));
    alertsOf(engine, shadowRead());
    const s = engine.statistics();
    assert.deepEqual(
      s.perRule.map((r) => [r.rule, r.tested, r.matched]),
      [["stays", 2, 2]],
    );
    assert.equal(s.alerts, 3);
    assert.equal(s.reloads, 1);
  });
});
