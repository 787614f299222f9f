import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./schema.js";
import { SqlStore } from "./sql-store.js";

/** The shared store: many server replicas on one PostgreSQL database. */
export async function openPostgresStore(connectionString: string): Promise<SqlStore> {
  const pool = new pg.Pool({ connectionString, max: 10 });
  try {
    // Fail at start-up with the database's reason, not at the first request.
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end();
    throw new Error(`cannot connect to the PostgreSQL store ${redact(connectionString)}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return SqlStore.open("postgres", new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }));
}

/** The URL without its password, for messages and logs. */
export function redact(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (url.password) url.password = "***";
    return url.toString();
  } catch {
    return "(unparseable URL)";
  }
}
