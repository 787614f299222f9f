import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Alert } from "../../events/alert.js";
import { sampleEvent } from "../../events/samples.js";
import type { VigilEvent } from "../../events/schema.js";
import type { InterestSpec, KindInterest } from "../kernel/interest.js";
import { kindInterest, pathVerdict } from "../kernel/interest-union.js";
import { type CompiledPolicy, compilePolicyFile } from "./compile.js";
import { PolicyEngine, PolicySet } from "./engine.js";
import { literalStart, partsInterest, policyInterest } from "./kernel-part.js";
import { formatPolicyError } from "./source.js";

type Rule = { id: string; on: string | string[]; when: string };

const LISTS = { secrets: ["/etc/shadow", "/etc/gshadow"], shells: ["/bin/sh", "/bin/bash"], uids: [0] };
const MACROS = { etc: "file.path.startsWith('/etc/')", writes: "file.write" };

function compile(rules: Rule[], name = "test"): CompiledPolicy {
  const text = JSON.stringify({
    apiVersion: "vigil.dev/v1",
    kind: "Policy",
    metadata: { name },
    spec: { lists: LISTS, macros: MACROS, rules },
  });
  const result = compilePolicyFile(`${name}.json`, text);
  if (!result.policy) throw new Error(result.errors.map(formatPolicyError).join("\n"));
  return result.policy;
}

/** The kernel's interest for one rule on one kind. */
function part(when: string, on = "file.open"): KindInterest {
  const [rule] = compile([{ id: "r", on, when }]).rules;
  const found = rule?.kernel.find((p) => p.kind === on);
  assert.ok(found);
  return found.interest;
}

const under = (
  paths: Record<string, KindInterest["pathDefault"]>,
  pathDefault: KindInterest["pathDefault"] = "none",
) => ({
  enabled: true,
  pathDefault,
  paths,
});

describe("the kernel part of a condition", () => {
  test("equality, startsWith and in-list give prefixes", () => {
    assert.deepEqual(part("file.path == '/etc/shadow'"), under({ "/etc/shadow": "any" }));
    assert.deepEqual(part("'/etc/shadow' == file.path"), under({ "/etc/shadow": "any" }));
    assert.deepEqual(part("file.path.startsWith('/etc/')"), under({ "/etc/": "any" }));
    assert.deepEqual(part("file.path in lists.secrets"), under({ "/etc/gshadow": "any", "/etc/shadow": "any" }));
    assert.deepEqual(part("file.path in ['/root/a', '/root/b']"), under({ "/root/a": "any", "/root/b": "any" }));
    assert.deepEqual(part("file.path in []"), { enabled: false });
    // The kernel tests the file an open reached, which a link spelled as this does not reach.
    assert.deepEqual(part("file.requested == '/etc/hosts'"), { enabled: true });
  });

  test("matches gives the literal start of an anchored pattern, else every path", () => {
    assert.deepEqual(part("file.path.matches('^/etc/cron\\\\.d/.*')"), under({ "/etc/cron.d/": "any" }));
    assert.deepEqual(part("file.path.matches('/etc/cron')"), { enabled: true });
    assert.deepEqual(part("file.path.matches('^/etc/a|^/tmp/b')"), { enabled: true });
    assert.equal(literalStart("^/var/log/x?y"), "/var/log/");
    assert.equal(literalStart("^/var/log/x+y"), "/var/log/x");
    assert.equal(literalStart("^/home/[a-z]+/\\.ssh"), "/home/");
    assert.equal(literalStart("^\\d+"), undefined);
    assert.equal(literalStart("^(?i)/etc"), undefined);
  });

  test("access narrows file.open: file.write, its negation, create and truncate", () => {
    assert.deepEqual(part("file.path.startsWith('/etc/') && file.write"), under({ "/etc/": "write" }));
    assert.deepEqual(part("etc && writes"), under({ "/etc/": "write" }), "through macros");
    assert.deepEqual(part("file.path.startsWith('/etc/') && !file.write"), under({ "/etc/": "read" }));
    assert.deepEqual(part("file.path.startsWith('/etc/') && file.write == false"), under({ "/etc/": "read" }));
    assert.deepEqual(part("file.create"), { enabled: true, pathDefault: "write" });
    assert.deepEqual(part("!file.create"), { enabled: true });
    // Other kinds are tested for writing only: their access is left alone.
    assert.deepEqual(part("file.path.startsWith('/etc/')", "file.unlink"), under({ "/etc/": "any" }));
  });

  test("what the kernel cannot bound widens to every path", () => {
    const all = { enabled: true };
    assert.deepEqual(part("file.path != '/etc/shadow'"), all);
    assert.deepEqual(part("!(file.path.startsWith('/etc/'))"), all);
    assert.deepEqual(part("!(file.path in lists.secrets)"), all);
    assert.deepEqual(part("file.path.endsWith('.key')"), all);
    assert.deepEqual(part("file.path.contains('/.ssh/')"), all);
    assert.deepEqual(part("process.exe in lists.shells"), all);
    assert.deepEqual(part("file.path.startsWith('etc/')"), all, "a relative prefix is not the kernel's");
    assert.deepEqual(part("file.path.startsWith('/etc/') || process.uid == 0"), all);
    assert.deepEqual(part("lists.secrets.exists(p, file.path == p)"), all, "a comprehension");
    // The target of a symlink is not a path the kernel tests.
    assert.deepEqual(part("file.target.startsWith('/etc/')", "file.symlink"), all);
  });

  test("&& keeps the narrower side; || joins both; negation goes through De Morgan", () => {
    assert.deepEqual(part("file.path.startsWith('/etc/') && process.uid != 0"), under({ "/etc/": "any" }));
    assert.deepEqual(part("process.uid != 0 && file.path.startsWith('/etc/')"), under({ "/etc/": "any" }));
    assert.deepEqual(
      part("file.path.startsWith('/etc/') && file.path.startsWith('/etc/ssh/')"),
      under({ "/etc/ssh/": "any" }),
    );
    assert.deepEqual(part("file.path.startsWith('/etc/') && file.path.startsWith('/root/')"), { enabled: false });
    assert.deepEqual(
      part("file.path.startsWith('/etc/') || file.path.startsWith('/root/')"),
      under({ "/etc/": "any", "/root/": "any" }),
    );
    assert.deepEqual(
      part("(file.path.startsWith('/etc/') && file.write) || file.path == '/etc/shadow'"),
      under({ "/etc/": "write", "/etc/shadow": "any" }),
    );
    assert.deepEqual(
      part("!(!file.path.startsWith('/etc/') || !file.write)"),
      under({ "/etc/": "write" }),
      "!(!a || !b) is a && b",
    );
    assert.deepEqual(
      part("process.uid == 0 ? file.path.startsWith('/root/') : file.path.startsWith('/home/')"),
      under({ "/home/": "any", "/root/": "any" }),
    );
  });

  test("rename and link: a prefix on either name narrows, both names go through the trie", () => {
    assert.deepEqual(part("file.new_path.startsWith('/etc/')", "file.rename"), under({ "/etc/": "any" }));
    assert.deepEqual(part("file.old_path == '/etc/passwd'", "file.link"), under({ "/etc/passwd": "any" }));
  });

  test("kinds without paths are on unless the condition is false", () => {
    assert.deepEqual(part("net.remote.port == 4444", "net.connect"), { enabled: true });
    assert.deepEqual(part("false", "net.connect"), { enabled: false });
  });

  test("a rule on several kinds gives a part per kind", () => {
    const [rule] = compile([{ id: "r", on: ["file.open", "file.unlink", "net.connect"], when: "true" }]).rules;
    assert.deepEqual(
      rule?.kernel.map((p) => p.kind),
      ["file.open", "file.unlink", "net.connect"],
    );
    const [paths] = compile([{ id: "r", on: ["file.open", "file.unlink"], when: "etc" }]).rules;
    assert.deepEqual(
      paths?.kernel.map((p) => p.interest),
      [under({ "/etc/": "any" }), under({ "/etc/": "any" })],
    );
  });

  test("the remainder is every conjunct the kernel does not decide exactly", () => {
    const [rule] = compile([
      {
        id: "r",
        on: ["file.open", "file.unlink"],
        when: "file.path.startsWith('/etc/') && !(process.exe in lists.shells)",
      },
    ]).rules;
    const [open, unlink] = rule?.kernel ?? [];
    // An open's path follows symlinks, which the kernel's test on the spelling does not.
    assert.deepEqual(open?.remainder, ['file.path.startsWith("/etc/")', "!(process.exe in lists.shells)"]);
    assert.deepEqual(unlink?.remainder, ["!(process.exe in lists.shells)"]);
    const [writes] = compile([{ id: "w", on: "file.open", when: "file.write && file.path == '/etc/shadow'" }]).rules;
    assert.deepEqual(writes?.kernel[0]?.remainder, ['file.path == "/etc/shadow"']);
  });
});

describe("the union over rules", () => {
  test("rules OR together per kind; kinds no rule names are off", () => {
    const policy = compile([
      { id: "a", on: "file.open", when: "file.path == '/etc/shadow'" },
      { id: "b", on: "file.open", when: "file.path.startsWith('/etc/') && file.write" },
      { id: "c", on: "net.connect", when: "net.remote.port == 4444" },
    ]);
    const spec = partsInterest(policy.rules.flatMap((r) => r.kernel));
    assert.deepEqual(spec.kinds["file.open"], under({ "/etc/": "write", "/etc/shadow": "any" }));
    assert.deepEqual(spec.kinds["net.connect"], { enabled: true });
    assert.deepEqual(spec.kinds["file.unlink"], { enabled: false });
    assert.deepEqual(spec.kinds["kernel.module_load"], { enabled: false });
  });

  test("a rule that cannot bound a kind sends all of it", () => {
    const policy = compile([
      { id: "a", on: "file.open", when: "file.path == '/etc/shadow'" },
      { id: "b", on: "file.open", when: "process.exe == '/bin/sh'" },
    ]);
    assert.deepEqual(partsInterest(policy.rules.flatMap((r) => r.kernel)).kinds["file.open"], { enabled: true });
  });
});

describe("sequence rules", () => {
  test("each step adds its own kind and condition, labelled with the step", () => {
    const text = JSON.stringify({
      apiVersion: "vigil.dev/v1",
      kind: "Policy",
      metadata: { name: "seq" },
      spec: {
        rules: [
          {
            id: "s",
            sequence: {
              within: "10s",
              by: "process",
              steps: [
                { on: "net.connect", when: "net.remote.port == 4444" },
                { on: "file.open", when: "file.path.startsWith('/etc/')" },
              ],
            },
          },
        ],
      },
    });
    const result = compilePolicyFile("seq.json", text);
    if (!result.policy) throw new Error(result.errors.map(formatPolicyError).join("\n"));
    const parts = result.policy.rules.flatMap((r) => r.kernel);
    assert.deepEqual(
      parts.map((p) => [p.kind, p.source]),
      [
        ["net.connect", "sequence.steps[0].when"],
        ["file.open", "sequence.steps[1].when"],
      ],
    );
    const spec = partsInterest(parts);
    assert.deepEqual(spec.kinds["file.open"], under({ "/etc/": "any" }));
    assert.deepEqual(spec.kinds["net.connect"], { enabled: true });
  });
});

describe("the rules' interest with what the user asked for besides", () => {
  test("the user's kinds and prefixes are added; the processes they ignore stay ignored; disabled rules add nothing", () => {
    const policy = compile([
      { id: "a", on: "file.open", when: "file.path.startsWith('/etc/')" },
      { id: "b", on: "net.connect", when: "true" },
    ]);
    const base: InterestSpec = {
      kinds: { "file.open": { enabled: true, pathDefault: "none", paths: { "/home/": "write" } } },
      ignoreComms: ["backup"],
      ignoreExes: [],
    };
    const spec = policyInterest(policy.rules, base);
    assert.deepEqual(spec.kinds["file.open"], under({ "/etc/": "any", "/home/": "write" }));
    // Absent from the user's spec: sent whole, as --interest alone would.
    assert.equal(spec.kinds["file.unlink"], undefined);
    assert.deepEqual(spec.ignoreComms, ["backup"]);
    const off = policyInterest(policy.rules.map((r) => ({ ...r, enabled: r.id !== "b" })));
    assert.deepEqual(off.kinds["net.connect"], { enabled: false });
  });
});

/** Whether the kernel's filter, per lib/filter.h, sends an event under a spec. */
function kernelSends(spec: InterestSpec, event: VigilEvent): boolean {
  const interest = kindInterest(spec, event.kind);
  if (!interest.enabled) return false;
  const verdict = (path: string) => ({ none: 0, read: 1, write: 2, any: 3 })[pathVerdict(interest, path)];
  const e = event as VigilEvent & { file?: Record<string, unknown> };
  if (event.kind === "file.open") return (verdict(e.file?.path as string) & (e.file?.write ? 2 : 1)) !== 0;
  if (event.kind === "file.rename" || event.kind === "file.link") {
    return ((verdict(e.file?.old_path as string) | verdict(e.file?.new_path as string)) & 2) !== 0;
  }
  if (event.kind.startsWith("file.")) return (verdict(e.file?.path as string) & 2) !== 0;
  return true;
}

describe("soundness: the kernel sends every event a rule matches", () => {
  const CONDITIONS = [
    "file.path == '/etc/shadow'",
    "file.path.startsWith('/etc/') && file.write",
    "file.path.startsWith('/etc/') && !file.write",
    "file.path in lists.secrets && process.uid != 0",
    "file.path.matches('^/etc/cron\\\\.d/[a-z]+$')",
    "!(file.path.startsWith('/tmp/'))",
    "file.path.startsWith('/root/') || process.exe in lists.shells",
    "(file.path.startsWith('/etc/') || file.path.startsWith('/var/')) && file.create",
    "file.path.startsWith('/etc/') && file.path.startsWith('/etc/ssh/') && !file.write",
    "file.path.endsWith('.key') && file.path.startsWith('/home/')",
    "process.uid == 0 ? file.path == '/etc/sudoers' : file.path.startsWith('/home/')",
    "file.path.startsWith('/etc/') && (file.write || process.uid == 0)",
  ];
  const PATHS = [
    "/etc/shadow",
    "/etc/shadow.bak",
    "/etc/gshadow",
    "/etc/passwd",
    "/etc/ssh/sshd_config",
    "/etc/cron.d/job",
    "/etc/cron.daily",
    "/root/.bashrc",
    "/home/u/id.key",
    "/home/u/notes",
    "/tmp/x",
    "/var/log/syslog",
    "/etc/sudoers",
    "/",
  ];

  function eventsOf(path: string): VigilEvent[] {
    const out: VigilEvent[] = [];
    for (const write of [false, true]) {
      for (const uid of [0, 1000]) {
        for (const exe of ["/bin/sh", "/usr/bin/cat"]) {
          const process = { uid, exe };
          out.push(
            sampleEvent("file.open", {
              process,
              file: { path, requested: path, write, create: write && uid === 0 },
            }),
          );
          if (write) out.push(sampleEvent("file.unlink", { process, file: { path } }));
        }
      }
    }
    return out;
  }

  test("for each condition alone and all of them together, on every sample event", () => {
    const sets = [...CONDITIONS.map((c) => [c]), CONDITIONS];
    let matched = 0;
    for (const conditions of sets) {
      // Those that name file.write are on file.open only: file.unlink has no such field.
      const on = (when: string) => (/file\.(write|create)/.test(when) ? ["file.open"] : ["file.open", "file.unlink"]);
      const policy = compile(conditions.map((when, i) => ({ id: `r${i}`, on: on(when), when })));
      const engine = new PolicyEngine();
      engine.swap(new PolicySet([policy], []));
      const spec = partsInterest(policy.rules.flatMap((r) => r.kernel));
      for (const event of PATHS.flatMap(eventsOf)) {
        const alerts: Alert[] = [];
        engine.evaluate(event, (a) => alerts.push(a));
        if (alerts.length === 0) continue;
        matched++;
        const e = event as { file: { path: string; write?: boolean } };
        assert.ok(
          kernelSends(spec, event),
          `${conditions.join(" ; ")}: ${event.kind} ${e.file.path} write=${e.file.write} dropped in the kernel`,
        );
      }
    }
    assert.ok(matched > 100, `the samples exercise the rules (${matched} matches)`);
  });
});
