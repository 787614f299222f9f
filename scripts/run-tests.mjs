// Runs every compiled test file in one node:test run, so its closing summary counts them all.
// Files run one at a time: the kernel tests each start a sensor and must not see each other's.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const roots = ["dist/src", "dist/test"];
const files = [];
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (entry.name.endsWith(".test.js")) files.push(path);
  }
};
for (const root of roots) walk(root);
const filter = process.argv.slice(2);
const selected = filter.length ? files.filter((f) => filter.some((s) => f.includes(s))) : files;
const result = spawnSync(process.execPath, ["--test", "--test-reporter=spec", "--test-concurrency=1", ...selected], {
  stdio: "inherit",
});
process.exit(result.status ?? 1);
