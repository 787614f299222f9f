import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openStore, parseStoreUrl } from "./index.js";

test("--db takes sqlite:PATH or a postgres URL, and says which when it is neither", () => {
  assert.deepEqual(parseStoreUrl("sqlite:/var/lib/vigil/server.db"), {
    dialect: "sqlite",
    path: "/var/lib/vigil/server.db",
  });
  assert.deepEqual(parseStoreUrl("postgresql://db.internal/vigil"), {
    dialect: "postgres",
    url: "postgresql://db.internal/vigil",
  });
  assert.throws(() => parseStoreUrl("sqlite:"), /--db sqlite:: the SQLite store needs a file path/);
  assert.throws(() => parseStoreUrl("mysql://x"), /--db mysql:\/\/x: expected sqlite:PATH or a postgres:\/\/ URL/);
});

test("reopening a store runs no migration twice and keeps what it held", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-sqlite-"));
  try {
    const db = `sqlite:${join(dir, "server.db")}`;
    const first = await openStore(db);
    await first.putPolicy({ name: "sensitive-files", document: "{}", updatedAt: 1 });
    await first.close();
    const again = await openStore(db);
    assert.deepEqual(
      (await again.policies()).map((p) => p.name),
      ["sensitive-files"],
    );
    await again.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
