import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fromJson, toJson } from "../../events/json.js";
import { sampleEvent } from "../../events/samples.js";
import { installRoot } from "../../paths.js";
import { policyJsonSchema } from "../../sensor/policy/index.js";
import { TEST_EXIT, VALIDATE_EXIT } from "./policy.js";

const vigil = join(installRoot, "bin/vigil");

function run(...args: string[]) {
  const out = spawnSync(process.execPath, [vigil, "policy", ...args], { encoding: "utf8" });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "vigil-policy-cli-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const good = {
  apiVersion: "vigil.dev/v1",
  kind: "Policy",
  metadata: { name: "good" },
  spec: { rules: [{ id: "tmp-exec", on: "process.exec", when: "process.exe.startsWith('/tmp/')" }] },
};

describe("vigil policy validate", () => {
  test("valid files: exit 0", () => {
    const file = join(dir, "good.json");
    writeFileSync(file, JSON.stringify(good, null, 2));
    const out = run("validate", file);
    assert.equal(out.status, VALIDATE_EXIT.valid);
    assert.equal(out.stdout, "1 file: valid\n");
  });

  test("errors: each as file:line:col rule: message, a summary, exit 1", () => {
    const policies = join(dir, "policies");
    mkdirSync(policies);
    writeFileSync(join(policies, "a.json"), JSON.stringify(good, null, 2));
    const bad = structuredClone(good);
    bad.metadata.name = "bad";
    bad.spec.rules[0] = {
      id: "tmp-exec",
      on: "process.exec",
      when: "process.exe.startsWith('/tmp/') && file.pth == ''",
    };
    writeFileSync(join(policies, "b.json"), JSON.stringify(bad, null, 2));
    const out = run("validate", policies);
    assert.equal(out.status, VALIDATE_EXIT.invalid);
    assert.equal(
      out.stdout,
      `${join(policies, "b.json")}:12:53 tmp-exec: when (offset 35): these events have no 'file'\n2 files: 1 rejected, 1 error\n`,
    );
    const json = JSON.parse(run("validate", "--json", policies).stdout) as { files: number; errors: unknown[] };
    assert.equal(json.files, 2);
    assert.deepEqual(json.errors, [
      {
        file: join(policies, "b.json"),
        line: 12,
        column: 53,
        rule: "tmp-exec",
        message: "when (offset 35): these events have no 'file'",
      },
    ]);
  });

  test("a deny rule the kernel cannot decide: its part and why, exit 1", () => {
    const file = join(dir, "deny.json");
    const deny = structuredClone(good);
    deny.metadata.name = "deny";
    deny.spec.rules[0] = {
      id: "perl-e",
      on: "process.exec",
      when: "process.exe == '/usr/bin/perl' && process.args.exists(a, a == '-e')",
      action: "deny",
    } as (typeof good.spec.rules)[0];
    writeFileSync(file, JSON.stringify(deny, null, 2));
    const out = run("validate", file);
    assert.equal(out.status, VALIDATE_EXIT.invalid);
    assert.equal(
      out.stdout,
      `${file}:12:52 perl-e: when (offset 34): deny: \`process.args.exists(a, a == '-e')\`: comprehensions (exists, all, exists_one, map, filter) cannot run in the kernel\n1 file: 1 rejected, 1 error\n`,
    );
  });

  test("a path that does not exist or holds no policy: exit 2", () => {
    const missing = run("validate", join(dir, "missing"));
    assert.equal(missing.status, VALIDATE_EXIT.nothing);
    assert.equal(missing.stderr, `vigil: no such file or directory: ${join(dir, "missing")}\n`);
    const empty = join(dir, "empty");
    mkdirSync(empty);
    assert.equal(run("validate", empty).status, VALIDATE_EXIT.nothing);
  });
});

describe("vigil policy test", () => {
  const withExamples = (match: unknown[]) => ({
    ...good,
    metadata: { name: "examples" },
    spec: { rules: [{ ...good.spec.rules[0], examples: { match, ignore: [{ process: { exe: "/usr/bin/ls" } }] } }] },
  });

  test("examples: all pass, exit 0; a failing one is named with what was expected, exit 1", () => {
    const file = join(dir, "examples.json");
    writeFileSync(file, JSON.stringify(withExamples([{ process: { exe: "/tmp/x" } }])));
    const ok = run("test", file);
    assert.equal(ok.stdout, "examples: 1 rule, 2 examples, all passed\n");
    assert.equal(ok.status, TEST_EXIT.ran);
    writeFileSync(file, JSON.stringify(withExamples([{ process: { exe: "/var/tmp/x" } }])));
    const failed = run("test", file);
    assert.equal(
      failed.stdout,
      `${file} tmp-exec examples.match[0]: expected an alert, got none\nexamples: 1 rule, 2 examples, 1 failed\n`,
    );
    assert.equal(failed.status, TEST_EXIT.failed);
  });

  test("--events: bad lines reported by number and skipped; the rules that fired, with their lines", () => {
    const file = join(dir, "tmp-exec.json");
    writeFileSync(file, JSON.stringify(good));
    const events = join(dir, "events.jsonl");
    const exec = (exe: string) =>
      toJson(sampleEvent("process.exec", { time: 1_764_000_000_000_000_000n, process: { exe } }));
    writeFileSync(events, [exec("/usr/bin/ls"), "garbage", exec("/tmp/x"), ""].join("\n"));
    const out = run("test", file, "--events", events);
    assert.equal(out.status, TEST_EXIT.ran);
    assert.equal(out.stderr, `${events}:2: not JSON: Unexpected token 'g', "garbage" is not valid JSON (skipped)\n`);
    const lines = out.stdout.split("\n");
    assert.equal(lines[0], "examples: 0 rules, 0 examples, all passed");
    assert.equal(lines[1], `${events}: 2 events, 1 bad line skipped`);
    assert.match(lines[2] ?? "", /^RULE\s+POLICY\s+TESTED\s+MATCHED\s+ERRORS\s+LINES$/);
    assert.match(lines[3] ?? "", /^tmp-exec\s+good\s+2\s+1\s+0\s+3$/);
    const json = fromJson(run("test", "--json", file, "--events", events).stdout) as {
      events: { events: number; bad: { line: number }[]; rules: { rule: string; matches: number[][] }[] };
    };
    assert.equal(json.events.events, 2);
    assert.deepEqual(
      json.events.bad.map((b) => b.line),
      [2],
    );
    assert.deepEqual(json.events.rules[0]?.matches, [[3]]);
  });

  test("bad usage, a missing events file or a policy with errors: exit 2", () => {
    assert.equal(run("test", join(dir, "missing")).status, TEST_EXIT.usage);
    const file = join(dir, "tmp-exec.json");
    writeFileSync(file, JSON.stringify(good));
    assert.equal(run("test", file, "--events", join(dir, "none.jsonl")).status, TEST_EXIT.usage);
    const bad = join(dir, "bad-policy.json");
    writeFileSync(bad, JSON.stringify({ ...good, spec: { rules: [{ id: "x", on: "file.open" }] } }));
    const out = run("test", bad);
    assert.equal(out.status, TEST_EXIT.usage);
    assert.match(out.stderr, /x: missing required field 'when'\n/);
  });
});

describe("vigil policy schema", () => {
  test("prints the published JSON Schema, the one in docs/", () => {
    const out = run("schema");
    assert.equal(out.status, 0);
    const schema = JSON.parse(out.stdout) as Record<string, unknown>;
    assert.equal(schema.$id, "https://vigil.dev/schemas/policy-v1.json");
    assert.deepEqual(schema, policyJsonSchema());
    assert.equal(readFileSync(join(installRoot, "docs/policy.schema.json"), "utf8"), out.stdout);
  });
});
