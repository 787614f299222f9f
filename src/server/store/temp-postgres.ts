import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throwaway PostgreSQL server for tests: its own data directory, reached only by a Unix socket. */
export interface TempPostgres {
  /** A connection URL for `database`, which `createDatabase` made. */
  url(database: string): string;
  createDatabase(name: string): void;
  stop(): void;
}

const SUPERUSER = "vigil";

/** Debian installs each major version under /usr/lib/postgresql/N/bin; the newest wins. */
export function findPostgresBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v))
    .sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, "bin");
    if (existsSync(join(bin, "initdb")) && existsSync(join(bin, "pg_ctl"))) return bin;
  }
  return undefined;
}

/** Starts a server; the caller must `stop()` it. Throws with initdb's or pg_ctl's output on failure. */
export function startTempPostgres(bin: string): TempPostgres {
  const dir = mkdtempSync(join(tmpdir(), "vigil-pg-"));
  const data = join(dir, "data");
  // PostgreSQL refuses to run as root: as root, run it as an unprivileged account that owns the directory.
  const asRoot = process.getuid?.() === 0;
  const account = asRoot ? unprivilegedAccount() : undefined;
  if (account) chownSync(dir, account.uid, account.gid);
  const run = (program: string, args: string[]) => {
    const [file, argv] = account
      ? ["runuser", ["-u", account.name, "--", join(bin, program), ...args]]
      : [join(bin, program), args];
    try {
      execFileSync(file, argv, { cwd: dir, stdio: "pipe", encoding: "utf8" });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`${program} failed: ${e.stderr || e.stdout || e.message}`);
    }
  };
  try {
    run("initdb", ["-D", data, "-U", SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"]);
    // No TCP listener: the socket in the temp directory is the only way in, so parallel runs never collide.
    run("pg_ctl", [
      "-D",
      data,
      "-w",
      "-t",
      "60",
      "-l",
      join(dir, "server.log"),
      "-o",
      `-k ${dir} -c listen_addresses= -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      "start",
    ]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const psql = (sql: string) =>
    run("psql", ["-h", dir, "-U", SUPERUSER, "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql]);
  return {
    url: (database) => `postgres://${SUPERUSER}@/${database}?host=${encodeURIComponent(dir)}`,
    createDatabase: (name) => {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`test database name ${name} is not a plain identifier`);
      psql(`CREATE DATABASE ${name}`);
    },
    stop: () => {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "stop"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function unprivilegedAccount(): { name: string; uid: number; gid: number } {
  for (const name of ["postgres", "nobody"]) {
    try {
      const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
      const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
      return { name, uid, gid };
    } catch {
      // Try the next account.
    }
  }
  throw new Error("running as root, but neither a postgres nor a nobody account exists to run PostgreSQL as");
}
