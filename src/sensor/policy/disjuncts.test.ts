import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { VigilEvent } from "../../events/schema.js";
import { type CompiledRule, compilePolicyFile } from "./compile.js";
import type { Disjunct } from "./disjuncts.js";
import { formatPolicyError } from "./source.js";

/** A policy whose rules are each on one line, from line 5 on. */
function policy(rules: object[]): string {
  return [
    "{",
    '  "apiVersion": "vigil.dev/v1", "kind": "Policy", "metadata": { "name": "d" },',
    '  "spec": { "mode": "enforce", "lists": { "shells": ["/bin/sh", "/usr/bin/bash"], "ports": [22, 4444], "nets": ["10.0.0.0/8", "fd00::/8"] },',
    '    "rules": [',
    rules.map((r) => `      ${JSON.stringify(r)}`).join(",\n"),
    "    ]",
    "  }",
    "}",
  ].join("\n");
}
const LINE = 5;

const rule = (on: string, when: string, more: object = {}) => ({ id: "r", on, when, action: "deny", ...more });

function compiled(r: object): CompiledRule {
  const result = compilePolicyFile("p.json", policy([r]));
  assert.deepEqual(result.errors.map(formatPolicyError), []);
  return result.policy?.rules[0] as CompiledRule;
}

function errors(r: object): string[] {
  return compilePolicyFile("p.json", policy([r])).errors.map(formatPolicyError);
}

/** Disjuncts as text: `a & !b | c`, each literal `field test values`. */
function text(disjuncts: readonly Disjunct[] | undefined): string {
  return (disjuncts ?? [])
    .map((d) =>
      d.map((l) => `${l.negated ? "!" : ""}${l.atom.field} ${l.atom.test} ${l.atom.values.join(",")}`).join(" & "),
    )
    .join(" | ");
}

const of = (on: string, when: string, more: object = {}) => text(compiled(rule(on, when, more)).disjuncts);

describe("deny conditions as disjuncts of kernel tests", () => {
  test("every test of the subset is one atom", () => {
    assert.equal(of("process.exec", "process.exe == '/usr/bin/nc'"), "process.exe exact /usr/bin/nc");
    assert.equal(of("process.exec", "'/usr/bin/nc' != process.exe"), "!process.exe exact /usr/bin/nc");
    assert.equal(of("process.exec", "process.exe in lists.shells"), "process.exe exact /bin/sh,/usr/bin/bash");
    assert.equal(of("process.exec", "process.comm in ['nc', 'ncat']"), "process.comm exact nc,ncat");
    assert.equal(of("process.exec", "process.exe.startsWith('/tmp/')"), "process.exe prefix /tmp/");
    assert.equal(of("process.exec", "process.exe.endsWith('.sh')"), "process.exe suffix .sh");
    assert.equal(of("process.exec", "process.uid == 1000"), "process.uid value 1000");
    assert.equal(of("process.exec", "process.gid in [0, 4]"), "process.gid value 0,4");
    assert.equal(of("net.connect", "net.remote.port in lists.ports"), "net.remote.port value 22,4444");
    assert.equal(of("net.bind", "net.local.port == 8080"), "net.local.port value 8080");
    assert.equal(of("net.connect", "net.remote.address == '10.1.2.3'"), "net.remote.address cidr 10.1.2.3");
    assert.equal(
      of("net.connect", "net.remote.address in ['::1', '127.0.0.1']"),
      "net.remote.address cidr 127.0.0.1,::1",
    );
    assert.equal(of("net.connect", "net.remote.address.inCidr('10.0.0.0/8')"), "net.remote.address cidr 10.0.0.0/8");
    assert.equal(
      of("net.connect", "net.remote.address.inCidr(['192.168.0.0/16', 'fc00::/7'])"),
      "net.remote.address cidr 192.168.0.0/16,fc00::/7",
    );
    assert.equal(
      of("net.connect", "net.remote.address.inCidr(lists.nets)"),
      "net.remote.address cidr 10.0.0.0/8,fd00::/8",
    );
  });

  test("and, or, not and ?: spread into disjuncts; exceptions are negated in", () => {
    assert.equal(
      of(
        "process.exec",
        "(process.exe.startsWith('/tmp/') || process.exe.startsWith('/dev/shm/')) && process.uid != 0",
      ),
      "process.exe prefix /tmp/ & !process.uid value 0 | process.exe prefix /dev/shm/ & !process.uid value 0",
    );
    assert.equal(
      of("process.exec", "!(process.exe.startsWith('/usr/') || process.comm == 'sh')"),
      "!process.exe prefix /usr/ & !process.comm exact sh",
    );
    assert.equal(
      of("net.connect", "net.remote.port == 22 ? process.uid != 0 : net.remote.address.inCidr('10.0.0.0/8')"),
      "net.remote.port value 22 & !process.uid value 0 | !net.remote.port value 22 & net.remote.address cidr 10.0.0.0/8",
    );
    assert.equal(
      of("process.exec", "process.exe.startsWith('/opt/') && !process.exe.startsWith('/opt/safe/')", {
        exceptions: [{ name: "admin", when: "process.uid == 0 || process.comm == 'backup'" }],
      }),
      "process.exe prefix /opt/ & !process.exe prefix /opt/safe/ & !process.uid value 0 & !process.comm exact backup",
    );
  });

  test("constants, contradictions and values that can never match fold away", () => {
    assert.equal(of("process.exec", "true"), "");
    assert.deepEqual(compiled(rule("process.exec", "true")).disjuncts, [[]]);
    assert.deepEqual(compiled(rule("process.exec", "false || process.uid == 0 && process.uid != 0")).disjuncts, []);
    assert.deepEqual(compiled(rule("process.exec", "process.exe in []")).disjuncts, []);
    assert.deepEqual(compiled(rule("net.connect", "net.remote.port == 70000")).disjuncts, []);
    assert.equal(of("net.connect", "net.remote.port != 70000"), "");
  });

  test("a kill rule in the subset gets disjuncts; an alert rule does not need them", () => {
    assert.equal(
      text(compiled(rule("process.exec", "process.comm == 'nc'", { action: "kill" })).disjuncts),
      "process.comm exact nc",
    );
    assert.equal(compiled(rule("process.exec", "process.comm == 'nc'", { action: "alert" })).disjuncts, undefined);
  });

  test("a kill rule outside the subset is decided in user space, and says why", () => {
    const r = compiled(rule("process.exec", "process.args.size() > 2", { action: "kill" }));
    assert.equal(r.disjuncts, undefined);
    assert.match(r.enforceable.why ?? "", /when \(offset 0\): `process.args.size\(\) > 2`: > cannot run in the kernel/);
  });
});

describe("deny conditions the kernel's tables cannot hold are errors where they are written", () => {
  test("more than 64 alternatives", () => {
    const when = Array.from({ length: 7 }, (_, i) => `(process.uid == ${i} || process.gid == ${i})`).join(" && ");
    const [error] = errors(rule("process.exec", when));
    assert.match(
      error ?? "",
      /^p\.json:5:\d+ r: when \(offset \d+\): deny: `.*`: the condition has 128 alternatives once its ORs are spread out, more than the 64 one rule can have in the kernel; split the rule or use lists$/,
    );
  });

  test("strings longer than the kernel compares", () => {
    const long = `/${"a".repeat(251)}`;
    assert.deepEqual(errors(rule("process.exec", `process.exe == '${long}'`)), [
      `p.json:${LINE}:60 r: when (offset 15): deny: \`'${long}'\`: the kernel compares an exact string of at most 250 bytes; this one has 252`,
    ]);
    assert.deepEqual(errors(rule("process.exec", `process.exe.startsWith('${long}x')`)).length, 1);
    assert.deepEqual(errors(rule("process.exec", `process.exe.startsWith('${long.slice(1)}')`)), []);
  });

  test("ranges that are not ranges, in constants, list literals and lists", () => {
    assert.deepEqual(errors(rule("net.connect", "net.remote.address.inCidr('10.0.0.0/33')")), [
      `p.json:${LINE}:70 r: when (offset 26): deny: \`'10.0.0.0/33'\`: '10.0.0.0/33': the prefix length must be 0 to 32`,
    ]);
    assert.deepEqual(errors(rule("net.connect", "net.remote.address.inCidr(['10.0.0.0/8', 'example.com'])")), [
      `p.json:${LINE}:85 r: when (offset 41): deny: \`'example.com'\`: 'example.com' is not an IP address or a CIDR range`,
    ]);
    assert.deepEqual(errors(rule("net.connect", "process.comm.inCidr('10.0.0.0/8')")), [
      `p.json:${LINE}:44 r: when (offset 0): deny: \`process.comm.inCidr('10.0.0.0/8')\`: inCidr() tests addresses, not process.comm`,
    ]);
  });
});

describe("inCidr in user space", () => {
  const event = (address: string) =>
    ({ kind: "net.connect", net: { remote: { address, port: 1 } }, process: {} }) as unknown as VigilEvent;
  const holds = (when: string, address: string) => {
    const r = compiled(rule("net.connect", when, { action: "alert" }));
    const bindings = r.bindings.get("net.connect");
    assert.ok(bindings);
    bindings.event = event(address);
    return r.when(bindings);
  };

  test("ranges of both families, single addresses, lists, and IPv4-mapped addresses", () => {
    assert.equal(holds("net.remote.address.inCidr('10.0.0.0/8')", "10.200.1.1"), true);
    assert.equal(holds("net.remote.address.inCidr('10.0.0.0/8')", "11.0.0.1"), false);
    assert.equal(holds("net.remote.address.inCidr('10.0.0.0/8')", "::ffff:10.0.0.7"), true);
    assert.equal(holds("net.remote.address.inCidr('10.0.0.1')", "10.0.0.1"), true);
    assert.equal(holds("net.remote.address.inCidr(['192.168.0.0/16', 'fd00::/8'])", "fd12::1"), true);
    assert.equal(holds("net.remote.address.inCidr(lists.nets)", "fe80::1"), false);
    assert.equal(holds("net.remote.address.inCidr(lists.nets)", "10.9.9.9"), true);
    assert.equal(holds("net.remote.address.inCidr('10.0.0.0/8')", "/run/x.sock"), false);
  });
});
