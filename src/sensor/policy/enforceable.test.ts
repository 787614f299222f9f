import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type CompiledRule, compilePolicyFile } from "./compile.js";
import { formatPolicyError } from "./source.js";

/** A policy whose rules are each on one line, from line 9 on. */
function policy(rules: object[]): string {
  return [
    "{",
    '  "apiVersion": "vigil.dev/v1",',
    '  "kind": "Policy",',
    '  "metadata": { "name": "deny" },',
    '  "spec": {',
    '    "lists": { "shells": ["/bin/sh", "/usr/bin/bash"], "ports": [22, 4444], "hosts": ["10.0.0.1", "::1"], "nets": ["10.0.0.0/8"] },',
    `    "macros": { "shell": "process.exe in lists.shells", "root": "process.uid == 0", "argv": "process.args.exists(a, a == '-e')" },`,
    '    "rules": [',
    rules.map((r) => `      ${JSON.stringify(r)}`).join(",\n"),
    "    ]",
    "  }",
    "}",
  ].join("\n");
}

const LINE = 9;

function errors(rules: object[]): string[] {
  return compilePolicyFile("p.json", policy(rules)).errors.map(formatPolicyError);
}

function rules(list: object[]): readonly CompiledRule[] {
  const result = compilePolicyFile("p.json", policy(list));
  assert.deepEqual(result.errors.map(formatPolicyError), []);
  return result.policy?.rules ?? [];
}

const deny = (on: string | string[], when: string, more: object = {}) => ({
  id: "r",
  on,
  when,
  action: "deny",
  ...more,
});

/** A connect then a shell exec, as a sequence rule with `action`. */
const connectThenShell = (id: string, action: string) => ({
  id,
  sequence: {
    within: "10s",
    by: "process",
    steps: [
      { on: "net.connect", when: "true" },
      { on: "process.exec", when: "shell" },
    ],
  },
  action,
});

describe("deny rules in the kernel's subset", () => {
  test("paths, exe, comm, ids, ports and addresses against constants and lists, in and/or/not, macros", () => {
    const valid = [
      deny("file.open", "file.path == '/etc/shadow' && !(process.exe in lists.shells)"),
      deny("process.exec", "process.exe.startsWith('/tmp/') || process.exe.endsWith('/nc')"),
      deny("process.exec", "shell && !root"),
      deny("file.open", "file.path in ['/etc/shadow', '/etc/gshadow'] && process.uid != 0"),
      deny("process.exec", "process.comm == 'xmrig' || (process.euid == 0 && process.gid in [0, 27])"),
      deny("net.connect", "net.remote.port in lists.ports && !(net.remote.address in lists.hosts)"),
      deny("net.connect", "net.remote.address == '169.254.169.254' ? process.uid != 0 : false"),
      deny("net.bind", "net.local.port == 4444 || net.local.address in ['0.0.0.0', '::']"),
      deny(["file.open", "process.exec"], "process.exe.startsWith('/dev/shm/')", {
        exceptions: [{ name: "ours", when: "process.comm == 'vigil' || root" }],
      }),
    ].map((r, i) => ({ ...r, id: `r${i}` }));
    for (const rule of rules(valid)) assert.deepEqual(rule.enforceable, { kernel: true }, rule.id);
  });
});

describe("deny rules outside it: each part that cannot compile, where it is written", () => {
  test("a comprehension, with its text and offset in the condition", () => {
    assert.deepEqual(
      errors([deny("process.exec", "process.exe == '/usr/bin/perl' && process.args.exists(a, a == '-e')")]),
      [
        `p.json:${LINE}:79 r: when (offset 34): deny: \`process.args.exists(a, a == '-e')\`: comprehensions (exists, all, exists_one, map, filter) cannot run in the kernel`,
      ],
    );
  });

  test("a comprehension from a macro is shown in the macro", () => {
    assert.deepEqual(errors([deny("process.exec", "shell && argv")]), [
      `p.json:${LINE - 2}:94 r: macro 'argv' (offset 0): deny: \`process.args.exists(a, a == '-e')\`: comprehensions (exists, all, exists_one, map, filter) cannot run in the kernel`,
    ]);
  });

  test("a field the kernel does not see, with those it does", () => {
    assert.deepEqual(errors([deny("file.open", "file.path == '/etc/shadow' && file.requested == '/etc/shadow'")]), [
      `p.json:${LINE}:72 r: when (offset 30): deny: \`file.requested\`: the kernel cannot test this field on file.open; it can test file.path, process.exe, process.comm, process.uid, process.euid, process.gid`,
    ]);
  });

  test("function calls, ordering, indexing, fields compared with each other, null; the kernel table says for which kinds", () => {
    const when =
      "process.exe.contains('nc') || net.remote.port < 1024 || process.args[0] == 'sh' || process.exe == process.comm || net.remote.port == null || net.remote.address.startsWith('10.')";
    assert.deepEqual(errors([deny("net.connect", when)]), [
      `p.json:${LINE}:44 r: when (offset 0): deny: \`process.exe.contains('nc')\`: contains() cannot run in the kernel; it tests ==, !=, in, startsWith, endsWith and inCidr`,
      `p.json:${LINE}:74 r: when (offset 30): deny: \`net.remote.port < 1024\`: < cannot run in the kernel; it tests ==, !=, in, startsWith, endsWith and inCidr`,
      `p.json:${LINE}:100 r: when (offset 56): deny: \`process.args[0]\`: indexing cannot run in the kernel; it tests ==, !=, in, startsWith, endsWith and inCidr`,
      `p.json:${LINE}:127 r: when (offset 83): deny: \`process.exe == process.comm\`: the kernel compares a field with constants, not with another field`,
      `p.json:${LINE}:177 r: when (offset 133): deny: \`null\`: a comparison with null cannot run in the kernel`,
      `p.json:${LINE}:185 r: when (offset 141): deny: \`net.remote.address.startsWith('10.')\`: startsWith() cannot run in the kernel on net.remote.address: it is compared whole`,
    ]);
  });

  test("an address that is not one, and a CIDR compared whole: ranges are written with inCidr", () => {
    assert.deepEqual(
      errors([deny("net.connect", "net.remote.address == 'localhost' || net.remote.address in lists.nets")]),
      [
        `p.json:${LINE}:66 r: when (offset 22): deny: \`'localhost'\`: 'localhost' is not an IP address, and the kernel compares addresses as such`,
        `p.json:${LINE}:103 r: when (offset 59): deny: \`lists.nets\`: its value '10.0.0.0/8' is not an IP address, and the kernel compares addresses as such (for a range, write address.inCidr('10.0.0.0/8'))`,
      ],
    );
  });

  test("an exception outside the subset: it would exempt in the kernel", () => {
    const rule = deny("process.exec", "shell", { exceptions: [{ name: "pkg", when: "process.args.size() > 2" }] });
    assert.deepEqual(errors([rule]), [
      `p.json:${LINE}:104 r: exception 'pkg' (offset 0): deny: \`process.args.size() > 2\`: > cannot run in the kernel; it tests ==, !=, in, startsWith, endsWith and inCidr`,
    ]);
  });

  test("a field that only some of the rule's kinds let the kernel see says which", () => {
    assert.deepEqual(errors([deny(["net.connect", "net.bind"], "net.remote.port == 22")]), [
      `p.json:${LINE}:57 r: when (offset 0): deny: \`net.remote.port\`: the kernel cannot test this field on net.bind; it can test net.local.address, net.local.port, process.exe, process.comm, process.uid, process.euid, process.gid (in net.bind events)`,
    ]);
  });

  test("a kind that cannot be stopped before it happens, and a sequence rule", () => {
    assert.deepEqual(
      errors([deny(["file.open", "file.chown"], "file.path == '/etc/passwd'"), connectThenShell("s", "deny")]),
      [
        `p.json:${LINE}:94 r: deny: file.chown cannot be denied before it happens on this design; use kill or alert`,
        `p.json:${LINE + 1}:151 s: deny: a sequence rule cannot deny: a sequence's earlier steps are state kept in user space, which the kernel does not see; use kill`,
      ],
    );
  });
});

describe("every rule records whether the kernel can decide it", () => {
  test("alert and kill rules outside the subset compile, and say why not", () => {
    const [inside, comprehension, sequence] = rules([
      { id: "a", on: "process.exec", when: "process.uid == 0", action: "kill" },
      { id: "b", on: "process.exec", when: "argv", action: "kill" },
      connectThenShell("c", "kill"),
    ]);
    assert.deepEqual(inside?.enforceable, { kernel: true });
    assert.deepEqual(comprehension?.enforceable, {
      kernel: false,
      why: "macro 'argv' (offset 0): `process.args.exists(a, a == '-e')`: comprehensions (exists, all, exists_one, map, filter) cannot run in the kernel",
    });
    assert.deepEqual(sequence?.enforceable, {
      kernel: false,
      why: "a sequence's earlier steps are state kept in user space, which the kernel does not see",
    });
  });
});
