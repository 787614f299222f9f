import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { sampleEvent } from "../../events/samples.js";
import { PolicyDirectory, validatePolicyPaths } from "./directory.js";
import { PolicyEngine } from "./engine.js";
import { formatPolicyError } from "./source.js";

let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), "vigil-policies-"));
});
after(() => rmSync(root, { recursive: true, force: true }));

let dirs = 0;
function freshDir(): string {
  const dir = join(root, `d${dirs++}`);
  mkdirSync(dir);
  return dir;
}

/** A policy named `name` whose rules each match every file.open. */
function policyText(name: string, rules: string[], when = "true"): string {
  return JSON.stringify(
    {
      apiVersion: "vigil.dev/v1",
      kind: "Policy",
      metadata: { name },
      spec: { rules: rules.map((id) => ({ id, on: "file.open", when })) },
    },
    null,
    2,
  );
}

/** Writes a file whole, as editors do: a new file renamed over the old one. */
function put(dir: string, name: string, text: string): void {
  writeFileSync(join(dir, `.${name}.tmp`), text);
  renameSync(join(dir, `.${name}.tmp`), join(dir, name));
}

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

const opened = sampleEvent("file.open", { process: { exe: "/usr/bin/cat" }, file: { path: "/etc/shadow" } });

function firing(engine: PolicyEngine): string[] {
  const ids: string[] = [];
  engine.evaluate(opened, (a) => ids.push(`${a.rule.policy}/${a.rule.id}`));
  return ids;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("loading a directory", () => {
  test("a bad file is rejected whole, the others load, and every error is logged with its place", () => {
    const dir = freshDir();
    put(dir, "a.json", policyText("a", ["a1"]));
    put(dir, "b.json", policyText("b", ["b1", "b2"]).replace('"b2"', '"B2"'));
    put(
      dir,
      "c.yaml",
      "apiVersion: vigil.dev/v1\nkind: Policy\nmetadata: { name: c }\nspec:\n  rules:\n    - { id: c1, on: file.open, when: 'true' }\n",
    );
    put(dir, "notes.txt", "not a policy");
    const { logger, lines } = capture();
    const engine = new PolicyEngine();
    const statuses = new PolicyDirectory(dir, engine, { logger }).load();
    assert.deepEqual(
      statuses.map((s) => [s.file.slice(dir.length + 1), s.status, s.errors]),
      [
        ["a.json", "loaded", 0],
        ["b.json", "rejected", 1],
        ["c.yaml", "loaded", 0],
      ],
    );
    assert.deepEqual(firing(engine), ["a/a1", "c/c1"]);
    const warning = lines.find((l) => l.level === 40);
    assert.equal(
      warning?.msg,
      `${join(dir, "b.json")}:15:15 B2: id: 'B2' must be lowercase letters, digits, '.', '_' or '-' (e.g. read-shadow)`,
    );
    assert.equal(warning?.rule, "B2");
    const summary = lines.find((l) => l.msg === "policies in force");
    assert.equal(summary?.policies, 2);
    assert.equal(summary?.rejected, 1);
  });

  test("a policy name already taken by an earlier file rejects the later one", () => {
    const dir = freshDir();
    put(dir, "a.json", policyText("same", ["a1"]));
    put(dir, "b.json", policyText("same", ["b1"]));
    const report = validatePolicyPaths([dir]);
    assert.deepEqual(report.errors.map(formatPolicyError), [
      `${join(dir, "b.json")}:5:13: metadata.name: policy 'same' is also defined in ${join(dir, "a.json")}`,
    ]);
    const engine = new PolicyEngine();
    new PolicyDirectory(dir, engine, { logger: capture().logger }).load();
    assert.deepEqual(firing(engine), ["same/a1"]);
  });

  test("a directory that cannot be read stops the start, not a reload", () => {
    const dir = freshDir();
    put(dir, "a.json", policyText("a", ["a1"]));
    const engine = new PolicyEngine();
    const { logger, lines } = capture();
    assert.throws(() => new PolicyDirectory(join(dir, "missing"), engine, { logger }).load(), /ENOENT/);
    const policies = new PolicyDirectory(dir, engine, { logger });
    policies.load();
    rmSync(dir, { recursive: true });
    policies.load("SIGHUP");
    assert.deepEqual(firing(engine), ["a/a1"]);
    assert.ok(
      lines.some((l) => String(l.msg).startsWith("cannot read the policy directory; the policies in force stay")),
    );
  });
});

describe("reloading", () => {
  test("a file that turns bad keeps its last good version in force; fixed, the new one loads", () => {
    const dir = freshDir();
    put(dir, "a.json", policyText("a", ["a1"]));
    put(dir, "b.json", policyText("b", ["b1"]));
    const engine = new PolicyEngine();
    const policies = new PolicyDirectory(dir, engine, { logger: capture().logger });
    policies.load();

    put(dir, "a.json", policyText("a", ["a2"], "file.pth == ''"));
    put(dir, "b.json", policyText("b", ["b2"]));
    const statuses = policies.load("SIGHUP");
    assert.deepEqual(
      statuses.map((s) => [s.policy, s.status]),
      [
        ["a", "stale"],
        ["b", "loaded"],
      ],
    );
    assert.deepEqual(firing(engine), ["a/a1", "b/b2"]);

    put(dir, "a.json", policyText("a", ["a3"]));
    unlinkSync(join(dir, "b.json"));
    policies.load("SIGHUP");
    assert.deepEqual(firing(engine), ["a/a3"]);
    assert.equal(engine.statistics().reloads, 2);
  });

  test("unchanged files are not reloaded", () => {
    const dir = freshDir();
    put(dir, "a.json", policyText("a", ["a1"]));
    const engine = new PolicyEngine();
    const policies = new PolicyDirectory(dir, engine, { logger: capture().logger });
    policies.load();
    policies.load("change");
    assert.equal(engine.statistics().reloads, 0);
  });

  test("a change in the directory is picked up by the watch, once the writes settle", async () => {
    const dir = freshDir();
    put(dir, "a.json", policyText("a", ["a1"]));
    const engine = new PolicyEngine();
    const { logger, lines } = capture();
    const policies = new PolicyDirectory(dir, engine, { logger, debounceMs: 50 });
    policies.load();
    policies.watch();
    try {
      put(dir, "a.json", policyText("a", ["a2"]));
      put(dir, "b.json", policyText("b", ["b1"]));
      const until = Date.now() + 5000;
      while (firing(engine).join() !== "a/a2,b/b1" && Date.now() < until) await sleep(20);
      assert.deepEqual(firing(engine), ["a/a2", "b/b1"]);
      // Both writes came in one reload.
      assert.equal(lines.filter((l) => l.msg === "policies in force" && l.reason === "change").length, 1);
    } finally {
      policies.close();
    }
  });

  test("events tested while the set is swapped see the old set or the new, whole", async () => {
    const dir = freshDir();
    const sets = [policyText("p", ["old1", "old2"]), policyText("p", ["new1", "new2"])];
    put(dir, "p.json", sets[0] ?? "");
    const engine = new PolicyEngine();
    const policies = new PolicyDirectory(dir, engine, { logger: capture().logger, debounceMs: 1 });
    policies.load();
    policies.watch();
    const seen = new Set<string>();
    try {
      for (let round = 0; round < 20; round++) {
        put(dir, "p.json", sets[(round + 1) % 2] ?? "");
        const until = Date.now() + 30;
        while (Date.now() < until) {
          seen.add(firing(engine).join());
          await new Promise((r) => setImmediate(r));
        }
      }
    } finally {
      policies.close();
    }
    assert.deepEqual([...seen].sort(), ["p/new1,p/new2", "p/old1,p/old2"]);
  });
});

describe("validating paths", () => {
  test("files and directories together, every error in order", () => {
    const dir = freshDir();
    put(dir, "good.json", policyText("good", ["g1"]));
    put(
      dir,
      "bad.yml",
      "apiVersion: vigil.dev/v1\nkind: Policy\nmetadata: { name: bad }\nspec:\n  rules:\n    - { id: r, on: file.opn, when: 'true' }\n",
    );
    const single = join(root, "single.json");
    writeFileSync(single, policyText("single", ["s1"], "file.path == 1"));
    const report = validatePolicyPaths([dir, single]);
    assert.equal(report.files, 3);
    assert.deepEqual(report.errors.map(formatPolicyError), [
      `${join(dir, "bad.yml")}:6:20 r: on: unknown event kind 'file.opn'; did you mean 'file.open'?`,
      `${single}:12:28 s1: when (offset 10): == between string and int is always false`,
    ]);
  });
});
