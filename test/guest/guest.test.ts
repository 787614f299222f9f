import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { guestJobDir, guestProblems, root, runInGuest } from "./guest.js";
import type { GuestTestResult } from "./reporter.js";

// Test files named *.guest.ts need a kernel this host refuses (BPF-LSM programs): they all run
// in one boot of the guest kernel, since a boot under emulation costs seconds, and each comes
// back here as a test of its own. VIGIL_GUEST_TESTS=a,b keeps the files whose path has a or b.

const here = dirname(fileURLToPath(import.meta.url));

function guestTestFiles(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".guest.js")) files.push(path);
    }
  };
  for (const top of ["dist/src", "dist/test"]) walk(join(root, top));
  const only = process.env.VIGIL_GUEST_TESTS?.split(",").filter(Boolean);
  return only ? files.filter((f) => only.some((s) => f.includes(s))) : files.sort();
}

const tail = (s: string, lines = 60) => s.split("\n").slice(-lines).join("\n");

test("tests under the guest kernel", async (t) => {
  const problems = guestProblems();
  if (problems.length) {
    if (process.env.CI) throw new Error(`guest tests cannot run under CI: ${problems.join(", ")}`);
    return t.skip(problems.join(", "));
  }
  const files = guestTestFiles();
  assert.ok(files.length > 0, "no *.guest.js test files: run `npm run build`");

  const results = "results.jsonl";
  const env: Record<string, string> = {};
  if (process.env.CI !== undefined) env.CI = process.env.CI;
  const run = await runInGuest(
    [
      process.execPath,
      "--test",
      "--test-concurrency=1",
      "--test-reporter=spec",
      "--test-reporter-destination=stdout",
      `--test-reporter=${join(here, "reporter.js")}`,
      `--test-reporter-destination=${guestJobDir}/${results}`,
      ...files,
    ],
    { env, collect: [results], timeoutMs: 300_000 },
  );
  t.diagnostic(
    `${run.kernel}: the tests started ${run.bootMs} ms after QEMU did, the guest powered off after ${run.totalMs} ms`,
  );

  const reported = (run.files[results] ?? "")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as GuestTestResult);
  for (const r of reported) {
    await t.test(r.name, (st) => {
      if (r.todo !== undefined) return st.todo(r.todo);
      if (r.skip !== undefined) {
        if (process.env.CI) throw new Error(`skipped in the guest under CI: ${r.skip}`);
        return st.skip(r.skip);
      }
      if (r.ok) return;
      // The guest's error and stack as they were; a stack from here would say nothing.
      const error = new Error(r.error ?? "failed");
      error.stack = r.error ?? "failed";
      throw error;
    });
  }
  assert.equal(run.code, 0, `node --test in the guest exited with ${run.code}:\n${tail(run.output)}`);
  assert.ok(reported.length > 0, `no test reported from the guest:\n${tail(run.output)}`);
});
