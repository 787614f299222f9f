import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openSqliteStore } from "./sqlite.js";
import { storeConformance } from "./store.case.test.js";

storeConformance("SQLite", async () => {
  const dir = mkdtempSync(join(tmpdir(), "vigil-sqlite-"));
  let n = 0;
  return {
    open: () => openSqliteStore(join(dir, `server-${n++}.db`)),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
});
