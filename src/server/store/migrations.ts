import { type Kysely, type Migration, type MigrationProvider, Migrator, sql } from "kysely";

const sqlOneHolder = sql`(sensor_id is null) <> (user_id is null)`;

// One set of migrations, written only with the schema builder's portable types (text, bigint),
// so the same steps run on SQLite and PostgreSQL. Times are bigint: milliseconds since the epoch,
// except event times, which keep the sensor's nanoseconds.
const migrations: Record<string, Migration> = {
  "0001-initial": {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable("sensors")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("client_id", "text", (c) => c.notNull().unique())
        .addColumn("secret_hash", "text", (c) => c.notNull())
        .addColumn("name", "text", (c) => c.notNull())
        .addColumn("cluster", "text")
        .addColumn("labels", "text", (c) => c.notNull())
        .addColumn("registered_at", "bigint", (c) => c.notNull())
        .addColumn("last_seen_at", "bigint")
        .addColumn("status", "text", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("users")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("name", "text", (c) => c.notNull().unique())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("role", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("access_tokens")
        .addColumn("token_hash", "text", (c) => c.primaryKey())
        .addColumn("sensor_id", "text", (c) => c.references("sensors.id").onDelete("cascade"))
        .addColumn("user_id", "text", (c) => c.references("users.id").onDelete("cascade"))
        .addColumn("issued_at", "bigint", (c) => c.notNull())
        .addColumn("expires_at", "bigint", (c) => c.notNull())
        // A token belongs to exactly one holder: a sensor or a user.
        .addCheckConstraint("access_tokens_one_holder", sqlOneHolder)
        .execute();
      await db.schema.createIndex("access_tokens_expires_at").on("access_tokens").column("expires_at").execute();

      // The primary key is what makes ingest idempotent: a retried batch id cannot be stored twice.
      await db.schema
        .createTable("telemetry_batches")
        .addColumn("sensor_id", "text", (c) => c.notNull().references("sensors.id").onDelete("cascade"))
        .addColumn("batch_id", "text", (c) => c.notNull())
        .addColumn("received_at", "bigint", (c) => c.notNull())
        .addColumn("record_count", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("telemetry_batches_pk", ["sensor_id", "batch_id"])
        .execute();

      // Events and alerts share one table, as they share one stream: an alert is kind "alert".
      // Keyed by their place in a batch, which needs no dialect-specific auto-increment.
      await db.schema
        .createTable("events")
        .addColumn("sensor_id", "text", (c) => c.notNull())
        .addColumn("batch_id", "text", (c) => c.notNull())
        .addColumn("seq", "bigint", (c) => c.notNull())
        .addColumn("time", "bigint", (c) => c.notNull())
        .addColumn("kind", "text", (c) => c.notNull())
        .addColumn("severity", "text")
        .addColumn("rule", "text")
        .addColumn("container_id", "text")
        .addColumn("body", "text", (c) => c.notNull())
        .addPrimaryKeyConstraint("events_pk", ["sensor_id", "batch_id", "seq"])
        .addForeignKeyConstraint(
          "events_batch_fk",
          ["sensor_id", "batch_id"],
          "telemetry_batches",
          ["sensor_id", "batch_id"],
          (fk) => fk.onDelete("cascade"),
        )
        .execute();
      await db.schema.createIndex("events_sensor_time").on("events").columns(["sensor_id", "time"]).execute();
      await db.schema.createIndex("events_kind_time").on("events").columns(["kind", "time"]).execute();

      await db.schema
        .createTable("loss_gaps")
        .addColumn("sensor_id", "text", (c) => c.notNull())
        .addColumn("batch_id", "text", (c) => c.notNull())
        .addColumn("seq", "bigint", (c) => c.notNull())
        .addColumn("from_time", "bigint", (c) => c.notNull())
        .addColumn("to_time", "bigint", (c) => c.notNull())
        .addColumn("count", "bigint", (c) => c.notNull())
        .addPrimaryKeyConstraint("loss_gaps_pk", ["sensor_id", "batch_id", "seq"])
        .addForeignKeyConstraint(
          "loss_gaps_batch_fk",
          ["sensor_id", "batch_id"],
          "telemetry_batches",
          ["sensor_id", "batch_id"],
          (fk) => fk.onDelete("cascade"),
        )
        .execute();

      await db.schema
        .createTable("policies")
        .addColumn("name", "text", (c) => c.primaryKey())
        .addColumn("document", "text", (c) => c.notNull())
        .addColumn("updated_at", "bigint", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("bundle_versions")
        .addColumn("version", "bigint", (c) => c.primaryKey())
        .addColumn("digest", "text", (c) => c.notNull().unique())
        .addColumn("document", "text", (c) => c.notNull())
        .addColumn("published_at", "bigint", (c) => c.notNull())
        .execute();

      await db.schema
        .createTable("audit_log")
        .addColumn("id", "text", (c) => c.primaryKey())
        .addColumn("time", "bigint", (c) => c.notNull())
        .addColumn("actor", "text", (c) => c.notNull())
        .addColumn("action", "text", (c) => c.notNull())
        .addColumn("target", "text")
        .addColumn("detail", "text", (c) => c.notNull())
        .execute();
      await db.schema.createIndex("audit_log_time").on("audit_log").column("time").execute();
    },
  },
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** Brings the schema up to date; a failed step is reported with its name and the database's error. */
export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  const { error, results } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error")?.migrationName ?? "(before any step)";
    throw new Error(`store migration ${failed} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
}
