import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { enums } from "../kernel/layout.generated.js";
import { type CompiledRule, compilePolicyFile } from "../policy/compile.js";
import type { Mode } from "../policy/format.js";
import { formatPolicyError } from "../policy/source.js";
import { mapEntries, outcomeOf, planEnforcement, routesHere } from "./plan.js";

const T = enums.vg_enforce_test;

function rules(list: object[], mode: Mode = "enforce"): { rules: CompiledRule[]; modes: Map<CompiledRule, Mode> } {
  const text = JSON.stringify({
    apiVersion: "vigil.dev/v1",
    kind: "Policy",
    metadata: { name: "p" },
    spec: { mode, rules: list },
  });
  const result = compilePolicyFile("p.json", text);
  assert.deepEqual(result.errors.map(formatPolicyError), []);
  const out = [...(result.policy?.rules ?? [])];
  return { rules: out, modes: new Map(out.map((r) => [r, mode])) };
}

const rule = (id: string, on: string | string[], when: string, action = "deny") => ({ id, on, when, action });
const HERE = ["fanotify", "cgroup_sock", "kill_at_exec"] as const;

describe("which path enforces a rule", () => {
  test("on this kind of host: exec by kill at exec, sockets by cgroup, the rest after the fact", () => {
    const { rules: r, modes } = rules([
      rule("exec", "process.exec", "process.exe.startsWith('/usr/bin/nc')"),
      rule("net", ["net.connect", "net.bind"], "process.uid == 1000"),
      rule("unlink", "file.unlink", "file.path == '/etc/passwd'"),
      rule("kill-exec", "process.exec", "process.comm == 'xmrig'", "kill"),
      rule("kill-args", "process.exec", "process.args.size() > 100", "kill"),
      rule("alert", "process.exec", "true", "alert"),
    ]);
    const plan = planEnforcement(r, modes, { paths: [...HERE] });
    assert.deepEqual(
      plan.rules.map((x) => `${x.rule} ${x.kind} ${x.path}${x.hook ? ` ${x.hook}` : ""}`),
      [
        "exec process.exec kill_at_exec exec",
        "net net.connect cgroup_sock connect",
        "net net.bind cgroup_sock bind",
        "unlink file.unlink kill_after",
        "kill-exec process.exec kill_at_exec exec",
        "kill-args process.exec kill_after",
      ],
    );
    assert.match(plan.rules[3]?.detail ?? "", /no program here stops file.unlink before it happens/);
    assert.match(plan.rules[5]?.detail ?? "", /the kernel cannot decide the condition \(when \(offset 0\)/);
    const exec = plan.hooks.find((h) => h.hook === "exec");
    assert.deepEqual(
      exec?.slots.map((s) => [s.rule.id, s.kill, s.require, s.forbid]),
      [
        ["exec", false, 1n, 0n],
        ["kill-exec", true, 2n, 0n],
      ],
    );
  });

  test("with BPF-LSM the exec is denied by it; without anything, everything is killed after the fact", () => {
    const { rules: r, modes } = rules([
      rule("exec", "process.exec", "process.uid == 1"),
      rule("net", "net.connect", "true"),
    ]);
    const lsm = planEnforcement(r, modes, { paths: ["lsm", "kill_at_exec"] });
    assert.deepEqual(
      lsm.rules.map((x) => x.path),
      ["lsm", "lsm"],
    );
    const none = planEnforcement(r, modes, { paths: [] });
    assert.deepEqual(
      none.rules.map((x) => x.path),
      ["kill_after", "kill_after"],
    );
    assert.deepEqual(routesHere([...HERE]).find((x) => x.kind === "file.open")?.path, "fanotify");
  });

  test("with BPF-LSM every deniable kind has a hook; without, unlink, rename, chmod and modules are killed after", () => {
    const { rules: r, modes } = rules([
      rule("open", "file.open", "file.path.startsWith('/etc/')"),
      rule("unlink", "file.unlink", "file.path == '/etc/passwd'"),
      rule("rename", "file.rename", "file.old_path == '/etc/passwd' || file.new_path == '/etc/passwd'"),
      rule("chmod", "file.chmod", "file.path == '/etc/passwd'"),
      rule("module", "kernel.module_load", "process.uid != 0"),
    ]);
    const lsm = planEnforcement(r, modes, { paths: ["lsm", "fanotify", "cgroup_sock", "kill_at_exec"] });
    assert.deepEqual(
      lsm.rules.map((x) => `${x.path} ${x.hook}`),
      ["lsm open", "lsm unlink", "lsm rename", "lsm chmod", "lsm module"],
    );
    const here = planEnforcement(r, modes, { paths: [...HERE] });
    assert.deepEqual(
      here.rules.map((x) => x.path),
      ["kill_after", "kill_after", "kill_after", "kill_after", "kill_after"],
    );
    // A prefix names no file fanotify could mark.
    assert.match(here.rules[0]?.detail ?? "", /does not name every file it denies by exact path/);
  });

  test("fanotify takes exec and open rules that name their files by exact path; the rest stay in the kernel", () => {
    const { rules: r, modes } = rules([
      rule("exec", "process.exec", "process.exe in ['/usr/bin/nc', '/usr/bin/ncat'] && process.uid != 0"),
      rule("open", "file.open", "file.path == '/etc/shadow' && !(process.exe in ['/usr/sbin/unix_chkpwd'])"),
      rule("either", "process.exec", "process.exe == '/usr/bin/nc' || process.comm == 'nc'"),
      rule("kill", "process.exec", "process.exe == '/usr/bin/nc'", "kill"),
    ]);
    const plan = planEnforcement(r, modes, { paths: [...HERE] });
    assert.deepEqual(
      plan.rules.map((x) => `${x.rule} ${x.path}`),
      ["exec fanotify", "open fanotify", "either kill_at_exec", "kill kill_at_exec"],
    );
    assert.deepEqual(
      plan.fanotify.map((h) => [h.hook, h.slots.map((s) => s.rule.id)]),
      [
        ["exec", ["exec"]],
        ["open", ["open"]],
      ],
    );
  });

  test("audit mode, from the policy or forced, only alerts", () => {
    const { rules: r, modes } = rules([rule("exec", "process.exec", "process.uid == 1")], "audit");
    assert.equal(planEnforcement(r, modes, { paths: [...HERE] }).rules[0]?.path, "audit");
    const forced = rules([rule("exec", "process.exec", "process.uid == 1")]);
    const plan = planEnforcement(forced.rules, forced.modes, { paths: [...HERE], mode: "audit" });
    assert.equal(plan.rules[0]?.path, "audit");
    assert.equal(plan.hooks.length, 0);
    assert.equal(outcomeOf(plan.rules[0], "deny"), "would_deny");
    assert.equal(outcomeOf(undefined, "kill"), "would_kill");
    const audited = plan.rules[0];
    assert.ok(audited);
    assert.equal(outcomeOf({ ...audited, path: "kill_after" }, "deny"), "killed_after");
    assert.equal(outcomeOf({ ...audited, path: "cgroup_sock" }, "deny"), undefined);
  });

  test("a hook's 64 slots: the rules that do not fit are killed after the fact, and say why", () => {
    const many = Array.from({ length: 33 }, (_, i) =>
      rule(`r${i}`, "net.connect", `net.remote.port == ${i} || process.uid == ${i}`),
    );
    const { rules: r, modes } = rules(many);
    const plan = planEnforcement(r, modes, { paths: [...HERE] });
    assert.equal(plan.hooks[0]?.slots.length, 64);
    assert.equal(plan.rules[32]?.path, "kill_after");
    assert.match(
      plan.rules[32]?.detail ?? "",
      /the connect hook's 64 slots are taken \(64 by earlier rules, 2 needed\)/,
    );
  });
});

describe("map entries", () => {
  test("exact strings end with a NUL and name the file by inode; suffixes are reversed; prefixes inherit", () => {
    const { rules: r, modes } = rules([
      rule("a", "process.exec", "process.exe == '/usr/bin/nc' || process.exe.startsWith('/usr/')"),
      rule("b", "process.exec", "process.exe.endsWith('.sh') && process.comm.startsWith('x')"),
    ]);
    const plan = planEnforcement(r, modes, { paths: [...HERE] });
    const entries = mapEntries(plan.hooks, (path) => (path === "/usr/bin/nc" ? [{ dev: 0x800001, ino: 42n }] : []));
    const strings = entries.strings.map((e) => [e.test, e.bytes.toString("latin1"), e.atoms]);
    assert.deepEqual(strings, [
      // The exact entry also holds its prefix's atom: the trie only answers the longest match.
      [T.VG_TEST_EXE, "/usr/bin/nc\0", 3n],
      [T.VG_TEST_EXE, "/usr/", 2n],
      [T.VG_TEST_EXE_SUFFIX, "hs.", 4n],
      [T.VG_TEST_COMM, "x", 8n],
    ]);
    assert.deepEqual(
      entries.inodes.map((e) => [e.test, e.dev, e.ino, e.atoms]),
      [[T.VG_TEST_EXE_INODE, 0x800001, 42n, 1n]],
    );
    const exec = enums.vg_enforce_hook.VG_HOOK_EXEC;
    assert.equal(
      entries.tests.get(exec),
      (1 << T.VG_TEST_EXE) | (1 << T.VG_TEST_EXE_INODE) | (1 << T.VG_TEST_EXE_SUFFIX) | (1 << T.VG_TEST_COMM),
    );
  });

  test("addresses are IPv6 or IPv4-mapped ranges, a narrower range holding the wider one's atoms; ports are values", () => {
    const { rules: r, modes } = rules([
      rule(
        "a",
        "net.connect",
        "net.remote.address.inCidr('10.0.0.0/8') || net.remote.address == '10.1.2.3' || net.remote.address.inCidr('fd00::/8')",
      ),
      rule("b", "net.connect", "net.remote.port in [22, 23]"),
    ]);
    const plan = planEnforcement(r, modes, { paths: [...HERE] });
    const entries = mapEntries(plan.hooks, () => []);
    assert.deepEqual(
      entries.addresses.map((e) => [e.addr.toString("hex"), e.bits, e.atoms]),
      [
        ["00000000000000000000ffff0a000000", 104, 1n],
        ["00000000000000000000ffff0a010203", 128, 3n],
        ["fd000000000000000000000000000000", 8, 4n],
      ],
    );
    assert.deepEqual(
      entries.values.map((e) => [e.test, e.value, e.atoms]),
      [
        [T.VG_TEST_PORT, 22, 8n],
        [T.VG_TEST_PORT, 23, 8n],
      ],
    );
  });
});
