import { openPostgresStore } from "./postgres.js";
import { storeConformance } from "./store.case.test.js";
import { findPostgresBin, startTempPostgres } from "./temp-postgres.js";

storeConformance("PostgreSQL", async () => {
  const bin = findPostgresBin();
  if (!bin) {
    const missing = "PostgreSQL is not installed (no /usr/lib/postgresql/N/bin/initdb; scripts/setup.sh installs it)";
    // In CI the PostgreSQL store must really be tested: a missing server fails the run.
    if (process.env.CI) throw new Error(missing);
    return missing;
  }
  const server = startTempPostgres(bin);
  let n = 0;
  return {
    open: () => {
      const name = `vigil_test_${n++}`;
      server.createDatabase(name);
      return openPostgresStore(server.url(name));
    },
    dispose: () => server.stop(),
  };
});
