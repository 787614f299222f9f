import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compilePolicyFile } from "./compile.js";
import { formatPolicyError } from "./source.js";

/** A policy document around `rules` (JSON text, one rule a line), with lists and macros. */
function policy(rules: string[], extra = ""): string {
  return [
    "{",
    '  "apiVersion": "vigil.dev/v1",',
    '  "kind": "Policy",',
    '  "metadata": { "name": "test" },',
    '  "spec": {',
    '    "lists": { "shells": ["/bin/sh", "/usr/bin/bash"], "uids": [0, 1000] },',
    `    "macros": { "shell": "process.exe in lists.shells", "etc": "file.path.startsWith('/etc/')"${extra} },`,
    '    "rules": [',
    rules.map((r) => `      ${r}`).join(",\n"),
    "    ]",
    "  }",
    "}",
  ].join("\n");
}

/** A YAML policy whose rules are the given lines (under `rules:`, indented by four). */
function yamlPolicy(rules: string[]): string {
  return ["apiVersion: vigil.dev/v1", "kind: Policy", "metadata: { name: y }", "spec:", "  rules:", ...rules].join(
    "\n",
  );
}

/** Rules start on line 9 of policy(). */
const RULE_LINE = 9;

function errors(text: string, file = "p.json"): string[] {
  return compilePolicyFile(file, text).errors.map(formatPolicyError);
}

describe("a valid policy", () => {
  test("the DESIGN sketch compiles: one rule on file.open, lists by name", () => {
    const result = compilePolicyFile(
      "sensitive-files.json",
      JSON.stringify({
        apiVersion: "vigil.dev/v1",
        kind: "Policy",
        metadata: { name: "sensitive-files" },
        spec: {
          mode: "enforce",
          lists: { shadow_readers: ["/usr/sbin/unix_chkpwd", "/usr/bin/passwd"] },
          rules: [
            {
              id: "read-shadow",
              on: "file.open",
              when: "file.path == '/etc/shadow' && !(process.exe in lists.shadow_readers)",
              action: "deny",
              severity: "high",
              tags: ["attack.T1003.008", "credential-access"],
              message: "{{process.exe}} opened {{file.path}}",
            },
          ],
        },
      }),
    );
    assert.deepEqual(result.errors, []);
    assert.equal(result.policy?.name, "sensitive-files");
    assert.equal(result.policy?.mode, "enforce");
    const rule = result.policy?.rules[0];
    assert.deepEqual(rule?.kinds, ["file.open"]);
    assert.equal(rule?.action, "deny");
    assert.equal(rule?.enabled, true);
  });

  test("defaults: action alert, severity medium, no tags, enabled; macros and lists in use", () => {
    const result = compilePolicyFile(
      "p.json",
      policy([
        '{ "id": "a", "on": ["file.open", "file.unlink"], "when": "etc && shell && process.uid in lists.uids" }',
      ]),
    );
    assert.deepEqual(result.errors, []);
    const rule = result.policy?.rules[0];
    assert.equal(rule?.action, "alert");
    assert.equal(rule?.severity, "medium");
    assert.deepEqual(rule?.tags, []);
    assert.deepEqual(rule?.kinds, ["file.open", "file.unlink"]);
  });

  test("YAML is read too", () => {
    const yaml = yamlPolicy([
      "    - id: tmp-exec",
      "      on: process.exec",
      "      when: process.exe.startsWith('/tmp/')",
    ]);
    assert.deepEqual(errors(yaml, "p.yaml"), []);
  });
});

describe("errors name the file, line, column, rule and offset", () => {
  test("an unknown field, with the nearest known one", () => {
    const text = policy(['{ "id": "r1", "on": "file.open", "when": "file.pth == \'/etc/shadow\'" }']);
    assert.deepEqual(errors(text), [
      `p.json:${RULE_LINE}:49 r1: when (offset 0): unknown field 'file.pth'; did you mean 'file.path'?`,
    ]);
  });

  test("container and pod fields: known on every kind, labels as maps, misspellings with the nearest", () => {
    const good = policy([
      '{ "id": "c1", "on": ["process.exec", "file.open"], "when": "container != null && container.image.startsWith(\'docker.io/\') && container.labels[\'app\'] == \'web\' && container.runtime == \'containerd\'", "message": "{{container.name}} {{container.id}}" }',
      '{ "id": "k1", "on": "net.connect", "when": "has(k8s.namespace) && k8s.namespace == \'shop\' && \'team\' in k8s.labels && k8s.owner.kind == \'Deployment\' && k8s.pod.startsWith(\'web-\')" }',
    ]);
    assert.deepEqual(errors(good), []);
    const bad = policy([
      '{ "id": "c2", "on": "process.exec", "when": "container.imag == \'x\' || k8s.namespce == \'y\'" }',
    ]);
    assert.deepEqual(errors(bad), [
      `p.json:${RULE_LINE}:52 c2: when (offset 0): unknown field 'container.imag'; did you mean 'container.image'?`,
      `p.json:${RULE_LINE}:77 c2: when (offset 25): unknown field 'k8s.namespce'; did you mean 'k8s.namespace'?`,
    ]);
  });

  test("the column counts the escapes of a JSON string before the problem", () => {
    const text = policy([
      '{ "id": "r1", "on": "file.open", "when": "process.exe == \\"/bin/sh\\" && file.pht == \'\'" }',
    ]);
    // `process.exe == "/bin/sh" && ` is 28 characters of the expression and 30 of the file.
    assert.deepEqual(errors(text), [
      `p.json:${RULE_LINE}:79 r1: when (offset 28): unknown field 'file.pht'; did you mean 'file.path'?`,
    ]);
  });

  test("unknown lists and names, with the nearest", () => {
    const text = policy([
      '{ "id": "r1", "on": "process.exec", "when": "process.exe in lists.shell" }',
      '{ "id": "r2", "on": "process.exec", "when": "shel" }',
    ]);
    assert.deepEqual(errors(text), [
      `p.json:${RULE_LINE}:67 r1: when (offset 15): unknown list 'shell'; did you mean 'shells'?`,
      `p.json:${RULE_LINE + 1}:52 r2: when (offset 0): unknown name 'shel'; did you mean 'shell'?`,
    ]);
  });

  test("type errors the checker can find", () => {
    const text = policy([
      '{ "id": "eq", "on": "file.open", "when": "file.path == 1" }',
      '{ "id": "call", "on": "file.open", "when": "file.path.startsWith(1)" }',
      '{ "id": "in", "on": "file.open", "when": "process.uid in lists.shells" }',
      '{ "id": "not-bool", "on": "file.open", "when": "process.args" }',
      '{ "id": "and", "on": "file.open", "when": "file.flags && true" }',
      '{ "id": "fn", "on": "file.open", "when": "sise(process.args) > 1" }',
      '{ "id": "field-of-string", "on": "file.open", "when": "file.path.name == \'\'" }',
      '{ "id": "plus", "on": "file.open", "when": "file.path + 1 == \'\'" }',
    ]);
    assert.deepEqual(errors(text), [
      `p.json:${RULE_LINE}:59 eq: when (offset 10): == between string and int is always false`,
      `p.json:${RULE_LINE + 1}:60 call: when (offset 9): no overload of 'startsWith' takes string.startsWith(int); it takes string.startsWith(string)`,
      `p.json:${RULE_LINE + 2}:61 in: when (offset 12): 'in' looks for int among string values; it never matches`,
      `p.json:${RULE_LINE + 3}:62 not-bool: when (offset 7): the condition yields list(string), not bool`,
      `p.json:${RULE_LINE + 4}:50 and: when (offset 0): an operand of && must be bool, not int`,
      `p.json:${RULE_LINE + 5}:49 fn: when (offset 0): unknown function 'sise'; did you mean 'size'?`,
      `p.json:${RULE_LINE + 6}:62 field-of-string: when (offset 0): file.path is string; it has no field 'name'`,
      `p.json:${RULE_LINE + 7}:61 plus: when (offset 10): '+' cannot be applied to string and int`,
    ]);
  });

  test("a syntax error, at its offset", () => {
    const text = policy(['{ "id": "r1", "on": "file.open", "when": "file.path == \'/a\' &&" }']);
    assert.deepEqual(errors(text), [
      `p.json:${RULE_LINE}:67 r1: when (offset 18): syntax error: found & but expecting end of input`,
    ]);
  });

  test("a problem inside a macro is shown in the macro, for the rule that used it", () => {
    const text = policy(['{ "id": "r1", "on": "process.exec", "when": "etc" }']);
    assert.deepEqual(errors(text), [`p.json:7:65 r1: macro 'etc' (offset 0): these events have no 'file'`]);
  });

  test("a field that only some of the rule's kinds have says which", () => {
    const text = policy(['{ "id": "r1", "on": ["file.open", "file.rename"], "when": "file.path == \'/a\'" }']);
    assert.deepEqual(errors(text), [
      `p.json:${RULE_LINE}:66 r1: when (offset 0): unknown field 'file.path' (in file.rename events)`,
    ]);
  });

  test("macros that use each other in a circle, and reserved macro names", () => {
    const text = policy(['{ "id": "r1", "on": "process.exec", "when": "a" }'], ', "a": "b", "b": "a", "file": "true"');
    assert.deepEqual(errors(text), [
      "p.json:7:113 r1: macro 'b' (offset 0): macro 'a' uses macro 'b' uses macro 'a': a macro cannot use itself",
      "p.json:7:117: macro name 'file' would hide the event's own 'file'",
    ]);
  });

  test("exceptions and the message template are checked like the condition", () => {
    const text = policy([
      '{ "id": "r1", "on": "file.open", "when": "etc", "exceptions": [{ "name": "pkg", "when": "proces.exe == \'/usr/bin/dpkg\'" }], "message": "{{process.exe}} opened {{file.pat}}" }',
    ]);
    assert.deepEqual(errors(text), [
      `p.json:${RULE_LINE}:96 r1: exception 'pkg' (offset 0): unknown name 'proces'; did you mean 'process'?`,
      `p.json:${RULE_LINE}:166 r1: message (offset 23): unknown field 'file.pat'; did you mean 'file.path'?`,
    ]);
  });

  test("a bad constant pattern is found at load", () => {
    const text = policy(['{ "id": "r1", "on": "file.open", "when": "file.path.matches(\'(\')" }']);
    const [line] = errors(text);
    assert.match(line ?? "", /^p\.json:9:67 r1: when \(offset 18\): bad pattern: /);
  });
});

describe("the document's structure", () => {
  test("unknown keys at the key, with the nearest; unknown kinds with the nearest", () => {
    const text = policy(['{ "id": "r1", "on": ["file.open", "proc.exec"], "whne": "true" }']);
    assert.deepEqual(errors(text), [
      `p.json:${RULE_LINE}:7 r1: missing required field 'when'`,
      `p.json:${RULE_LINE}:41 r1: on[1]: unknown event kind 'proc.exec'; did you mean 'process.exec'?`,
      `p.json:${RULE_LINE}:55 r1: unknown field 'whne'; did you mean 'when'?`,
    ]);
  });

  test("missing and mistyped fields, bad values, bad names", () => {
    const text = policy([
      '{ "id": "Bad_Id", "on": "file.open", "when": "true", "action": "block", "tags": "x", "on_": 1 }',
      '{ "id": "r2", "on": [] }',
    ]);
    assert.deepEqual(errors(text), [
      `p.json:${RULE_LINE}:15 Bad_Id: id: 'Bad_Id' must be lowercase letters, digits, '.', '_' or '-' (e.g. read-shadow)`,
      `p.json:${RULE_LINE}:70 Bad_Id: action: 'block' is not one of alert, deny, kill`,
      `p.json:${RULE_LINE}:87 Bad_Id: tags: expected a list, got string "x"`,
      `p.json:${RULE_LINE}:92 Bad_Id: unknown field 'on_'; did you mean 'on'?`,
      `p.json:${RULE_LINE + 1}:7 r2: missing required field 'when'`,
      `p.json:${RULE_LINE + 1}:27 r2: on: must not be empty`,
    ]);
  });

  test("one pass reports the structure's errors and those in the conditions of every rule it can read", () => {
    const text = policy([
      '{ "id": "r1", "on": ["file.open", "file.opne"], "when": "file.pth == \'\'" }',
      '{ "id": "r2", "on": "file.open", "when": "true", "severity": "urgent" }',
      '{ "id": "r3", "on": "process.exec", "when": "process.uid == \'root\'" }',
    ]);
    assert.deepEqual(errors(text), [
      `p.json:${RULE_LINE}:41 r1: on[1]: unknown event kind 'file.opne'; did you mean 'file.open'?`,
      `p.json:${RULE_LINE}:64 r1: when (offset 0): unknown field 'file.pth'; did you mean 'file.path'?`,
      `p.json:${RULE_LINE + 1}:68 r2: severity: 'urgent' is not one of info, low, medium, high, critical`,
      `p.json:${RULE_LINE + 2}:64 r3: when (offset 12): == between int and string is always false`,
    ]);
  });

  test("rule ids are unique within a policy", () => {
    const text = policy([
      '{ "id": "r1", "on": "file.open", "when": "true" }',
      '{ "id": "r1", "on": "file.open", "when": "false" }',
    ]);
    assert.deepEqual(errors(text), [`p.json:${RULE_LINE + 1}:15 r1: rule id 'r1' is used twice`]);
  });

  test("a file that is not JSON or YAML, and duplicate keys", () => {
    assert.deepEqual(errors('{\n  "apiVersion": "vigil.dev/v1",\n  "kind": "Policy"\n'), [
      "p.json:4:1: Flow map must end with a }",
    ]);
    assert.deepEqual(errors('{\n  "kind": "Policy",\n  "kind": "Policy"\n}'), ["p.json:3:3: Map keys must be unique"]);
  });

  test("positions in a YAML block scalar: line and column of the problem inside it", () => {
    const yaml = yamlPolicy([
      "    - id: multi",
      "      on: file.open",
      "      when: |",
      "        file.write &&",
      "          file.pth.startsWith('/etc/')",
    ]);
    assert.deepEqual(errors(yaml, "p.yaml"), [
      "p.yaml:10:11 multi: when (offset 16): unknown field 'file.pth'; did you mean 'file.path'?",
    ]);
  });
});
