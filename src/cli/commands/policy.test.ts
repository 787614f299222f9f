import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { installRoot } from "../../paths.js";
import { policyJsonSchema } from "../../sensor/policy/index.js";
import { VALIDATE_EXIT } from "./policy.js";

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

  test("a path that does not exist or holds no policy: exit 2", () => {
    const missing = run("validate", join(dir, "missing"));
    assert.equal(missing.status, VALIDATE_EXIT.nothing);
    assert.equal(missing.stderr, `vigil: no such file or directory: ${join(dir, "missing")}\n`);
    const empty = join(dir, "empty");
    mkdirSync(empty);
    assert.equal(run("validate", empty).status, VALIDATE_EXIT.nothing);
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
