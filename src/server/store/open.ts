import type { Store } from "./index.js";
import { openPostgresStore } from "./postgres.js";
import { openSqliteStore } from "./sqlite.js";

export type StoreLocation = { dialect: "sqlite"; path: string } | { dialect: "postgres"; url: string };

/** Reads `vigil server --db`: `sqlite:PATH` or a `postgres://` / `postgresql://` URL. */
export function parseStoreUrl(db: string): StoreLocation {
  if (db.startsWith("sqlite:")) {
    const path = db.slice("sqlite:".length);
    if (path.length === 0)
      throw new Error(`--db ${db}: the SQLite store needs a file path, as in sqlite:/var/lib/vigil/server.db`);
    return { dialect: "sqlite", path };
  }
  if (db.startsWith("postgres://") || db.startsWith("postgresql://")) return { dialect: "postgres", url: db };
  throw new Error(`--db ${db}: expected sqlite:PATH or a postgres:// URL`);
}

export function openStore(db: string): Promise<Store> {
  const location = parseStoreUrl(db);
  return location.dialect === "sqlite" ? openSqliteStore(location.path) : openPostgresStore(location.url);
}
