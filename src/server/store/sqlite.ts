import Sqlite from "better-sqlite3";
import { Kysely, SqliteDialect } from "kysely";
import type { Database } from "./schema.js";
import { SqlStore } from "./sql-store.js";

/** The embedded store: one file, one server. */
export async function openSqliteStore(path: string): Promise<SqlStore> {
  let file: Sqlite.Database;
  try {
    file = new Sqlite(path);
  } catch (err) {
    throw new Error(`cannot open the SQLite store ${path}: ${(err as Error).message}`, { cause: err });
  }
  // Event times are nanoseconds since the epoch, beyond a double's exact integers.
  file.defaultSafeIntegers(true);
  // WAL lets the web UI read while a batch is being written; SQLite leaves foreign keys off unless asked.
  file.pragma("journal_mode = WAL");
  file.pragma("foreign_keys = ON");
  file.pragma("busy_timeout = 5000");
  return SqlStore.open("sqlite", new Kysely<Database>({ dialect: new SqliteDialect({ database: file }) }));
}
