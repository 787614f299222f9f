import { randomUUID } from "node:crypto";
import type { Kysely, Selectable } from "kysely";
import type {
  AccessToken,
  AuditEntry,
  BundleVersion,
  NewAuditEntry,
  NewSensor,
  Policy,
  RecordQuery,
  Role,
  Sensor,
  SensorStatus,
  Store,
  StoredLossGap,
  StoredRecord,
  TelemetryBatch,
  User,
} from "./index.js";
import { roles, sensorStatuses } from "./index.js";
import { migrateToLatest } from "./migrations.js";
import { type Database, toBigInt, toNumber } from "./schema.js";

// Both databases cap the parameters of one statement (SQLite at 32766, PostgreSQL at 65535);
// 500 rows of 9 columns stays well under either.
const ROWS_PER_INSERT = 500;

/**
 * The store over kysely. SQLite and PostgreSQL differ only in how the connection is made
 * (sqlite.ts, postgres.ts): every statement here is portable, and the batch's ON CONFLICT DO
 * NOTHING ... RETURNING is understood by both.
 */
export class SqlStore implements Store {
  private constructor(
    readonly dialect: string,
    private readonly db: Kysely<Database>,
  ) {}

  static async open(dialect: string, db: Kysely<Database>): Promise<SqlStore> {
    try {
      await migrateToLatest(db as Kysely<unknown>);
    } catch (err) {
      await db.destroy();
      throw err;
    }
    return new SqlStore(dialect, db);
  }

  async registerSensor(sensor: NewSensor): Promise<Sensor> {
    requireText("sensor id", sensor.id);
    requireText(`sensor ${sensor.id}: client id`, sensor.clientId);
    requireText(`sensor ${sensor.id}: secret hash`, sensor.secretHash);
    requireText(`sensor ${sensor.id}: name`, sensor.name);
    for (const [key, value] of Object.entries(sensor.labels)) {
      if (typeof value !== "string") throw new Error(`sensor ${sensor.id}: label ${key} is not a string`);
    }
    const row = {
      id: sensor.id,
      client_id: sensor.clientId,
      secret_hash: sensor.secretHash,
      name: sensor.name,
      cluster: sensor.cluster,
      labels: JSON.stringify(sensor.labels),
      registered_at: sensor.registeredAt,
      last_seen_at: null,
      status: "active",
    };
    const inserted = await this.db
      .insertInto("sensors")
      .values(row)
      .onConflict((oc) => oc.doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!inserted) throw new Error(`sensor ${sensor.id} or client id ${sensor.clientId} is already registered`);
    return { ...sensor, lastSeenAt: null, status: "active" };
  }

  async sensor(id: string): Promise<Sensor | undefined> {
    const row = await this.db.selectFrom("sensors").selectAll().where("id", "=", id).executeTakeFirst();
    return row && sensorFromRow(row);
  }

  async sensorByClientId(clientId: string): Promise<Sensor | undefined> {
    const row = await this.db.selectFrom("sensors").selectAll().where("client_id", "=", clientId).executeTakeFirst();
    return row && sensorFromRow(row);
  }

  async sensors(filter: { cluster?: string } = {}): Promise<Sensor[]> {
    let query = this.db.selectFrom("sensors").selectAll().orderBy("name").orderBy("id");
    if (filter.cluster !== undefined) query = query.where("cluster", "=", filter.cluster);
    return (await query.execute()).map(sensorFromRow);
  }

  async setSensorStatus(id: string, status: SensorStatus): Promise<void> {
    if (!sensorStatuses.includes(status)) {
      throw new Error(`sensor status "${status}" is not one of ${sensorStatuses.join(", ")}`);
    }
    const result = await this.db.updateTable("sensors").set({ status }).where("id", "=", id).executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new Error(`no sensor with id ${id}`);
  }

  async issueToken(token: AccessToken): Promise<void> {
    requireText("token hash", token.tokenHash);
    if ((token.sensorId === null) === (token.userId === null)) {
      throw new Error("an access token belongs to exactly one holder: give a sensor id or a user id");
    }
    await this.db
      .insertInto("access_tokens")
      .values({
        token_hash: token.tokenHash,
        sensor_id: token.sensorId,
        user_id: token.userId,
        issued_at: token.issuedAt,
        expires_at: token.expiresAt,
      })
      .execute();
  }

  async validToken(tokenHash: string, now: number): Promise<AccessToken | undefined> {
    const row = await this.db
      .selectFrom("access_tokens")
      .selectAll()
      .where("token_hash", "=", tokenHash)
      .where("expires_at", ">", now)
      .executeTakeFirst();
    return (
      row && {
        tokenHash: row.token_hash,
        sensorId: row.sensor_id,
        userId: row.user_id,
        issuedAt: toNumber(row.issued_at),
        expiresAt: toNumber(row.expires_at),
      }
    );
  }

  async revokeToken(tokenHash: string): Promise<void> {
    await this.db.deleteFrom("access_tokens").where("token_hash", "=", tokenHash).execute();
  }

  async removeExpiredTokens(now: number): Promise<number> {
    const result = await this.db.deleteFrom("access_tokens").where("expires_at", "<=", now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async ingestBatch(batch: TelemetryBatch): Promise<boolean> {
    validateBatch(batch);
    return this.db.transaction().execute(async (trx) => {
      const sender = await trx.selectFrom("sensors").select("id").where("id", "=", batch.sensorId).executeTakeFirst();
      if (!sender) throw new Error(`telemetry batch ${batch.batchId}: no sensor with id ${batch.sensorId}`);
      // The batch row decides: only the transaction that inserts it stores the events. A
      // concurrent retry on another replica waits on the unique key, then inserts nothing.
      const claimed = await trx
        .insertInto("telemetry_batches")
        .values({
          sensor_id: batch.sensorId,
          batch_id: batch.batchId,
          received_at: batch.receivedAt,
          record_count: batch.records.length,
        })
        .onConflict((oc) => oc.columns(["sensor_id", "batch_id"]).doNothing())
        .returning("batch_id")
        .executeTakeFirst();
      if (!claimed) return false;

      const events = batch.records.map((r, seq) => ({
        sensor_id: batch.sensorId,
        batch_id: batch.batchId,
        seq,
        time: r.time,
        kind: r.kind,
        severity: r.severity,
        rule: r.rule,
        container_id: r.containerId,
        body: r.body,
      }));
      for (let i = 0; i < events.length; i += ROWS_PER_INSERT) {
        await trx
          .insertInto("events")
          .values(events.slice(i, i + ROWS_PER_INSERT))
          .execute();
      }
      if (batch.losses.length > 0) {
        await trx
          .insertInto("loss_gaps")
          .values(
            batch.losses.map((g, seq) => ({
              sensor_id: batch.sensorId,
              batch_id: batch.batchId,
              seq,
              from_time: g.fromTime,
              to_time: g.toTime,
              count: g.count,
            })),
          )
          .execute();
      }
      await trx
        .updateTable("sensors")
        .set({ last_seen_at: batch.receivedAt })
        .where("id", "=", batch.sensorId)
        .where((eb) => eb.or([eb("last_seen_at", "is", null), eb("last_seen_at", "<", batch.receivedAt)]))
        .execute();
      return true;
    });
  }

  async records(query: RecordQuery): Promise<StoredRecord[]> {
    const limit = query.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`record query limit ${limit} is not a positive integer`);
    let q = this.db
      .selectFrom("events")
      .selectAll()
      .orderBy("time", "desc")
      .orderBy("sensor_id")
      .orderBy("batch_id")
      .orderBy("seq", "desc")
      .limit(limit);
    if (query.sensorId !== undefined) q = q.where("sensor_id", "=", query.sensorId);
    if (query.kind !== undefined) q = q.where("kind", "=", query.kind);
    if (query.since !== undefined) q = q.where("time", ">=", query.since);
    if (query.until !== undefined) q = q.where("time", "<", query.until);
    return (await q.execute()).map((row) => ({
      sensorId: row.sensor_id,
      batchId: row.batch_id,
      seq: toNumber(row.seq),
      kind: row.kind,
      time: toBigInt(row.time),
      severity: row.severity,
      rule: row.rule,
      containerId: row.container_id,
      body: row.body,
    }));
  }

  async lossGaps(sensorId: string): Promise<StoredLossGap[]> {
    const rows = await this.db
      .selectFrom("loss_gaps")
      .selectAll()
      .where("sensor_id", "=", sensorId)
      .orderBy("from_time")
      .orderBy("batch_id")
      .orderBy("seq")
      .execute();
    return rows.map((row) => ({
      sensorId: row.sensor_id,
      batchId: row.batch_id,
      fromTime: toBigInt(row.from_time),
      toTime: toBigInt(row.to_time),
      count: toNumber(row.count),
    }));
  }

  async putPolicy(policy: Policy): Promise<void> {
    requireText("policy name", policy.name);
    requireJson(`policy ${policy.name}`, policy.document);
    await this.db
      .insertInto("policies")
      .values({ name: policy.name, document: policy.document, updated_at: policy.updatedAt })
      .onConflict((oc) =>
        oc.column("name").doUpdateSet((eb) => ({
          document: eb.ref("excluded.document"),
          updated_at: eb.ref("excluded.updated_at"),
        })),
      )
      .execute();
  }

  async policies(): Promise<Policy[]> {
    const rows = await this.db.selectFrom("policies").selectAll().orderBy("name").execute();
    return rows.map((row) => ({ name: row.name, document: row.document, updatedAt: toNumber(row.updated_at) }));
  }

  async deletePolicy(name: string): Promise<boolean> {
    const result = await this.db.deleteFrom("policies").where("name", "=", name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async publishBundle(bundle: Omit<BundleVersion, "version">): Promise<BundleVersion> {
    requireText("bundle digest", bundle.digest);
    requireJson(`bundle ${bundle.digest}`, bundle.document);
    return this.db.transaction().execute(async (trx) => {
      // Two replicas publishing at once compute the same next version; the primary key makes
      // the second fail rather than overwrite, and its caller publishes again.
      const latest = await trx
        .selectFrom("bundle_versions")
        .select((eb) => eb.fn.max("version").as("version"))
        .executeTakeFirst();
      const version = latest?.version == null ? 1 : toNumber(latest.version) + 1;
      await trx
        .insertInto("bundle_versions")
        .values({ version, digest: bundle.digest, document: bundle.document, published_at: bundle.publishedAt })
        .execute();
      return { ...bundle, version };
    });
  }

  async latestBundle(): Promise<BundleVersion | undefined> {
    const row = await this.db
      .selectFrom("bundle_versions")
      .selectAll()
      .orderBy("version", "desc")
      .limit(1)
      .executeTakeFirst();
    return (
      row && {
        version: toNumber(row.version),
        digest: row.digest,
        document: row.document,
        publishedAt: toNumber(row.published_at),
      }
    );
  }

  async createUser(user: User): Promise<void> {
    requireText("user id", user.id);
    requireText(`user ${user.id}: name`, user.name);
    requireText(`user ${user.name}: password hash`, user.passwordHash);
    requireRole(user.role);
    const inserted = await this.db
      .insertInto("users")
      .values({
        id: user.id,
        name: user.name,
        password_hash: user.passwordHash,
        role: user.role,
        created_at: user.createdAt,
      })
      .onConflict((oc) => oc.doNothing())
      .returning("id")
      .executeTakeFirst();
    if (!inserted) throw new Error(`user ${user.name} (id ${user.id}) already exists`);
  }

  async userByName(name: string): Promise<User | undefined> {
    const row = await this.db.selectFrom("users").selectAll().where("name", "=", name).executeTakeFirst();
    return (
      row && {
        id: row.id,
        name: row.name,
        passwordHash: row.password_hash,
        role: row.role as Role,
        createdAt: toNumber(row.created_at),
      }
    );
  }

  async setUserRole(id: string, role: Role): Promise<void> {
    requireRole(role);
    const result = await this.db.updateTable("users").set({ role }).where("id", "=", id).executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new Error(`no user with id ${id}`);
  }

  async appendAudit(entry: NewAuditEntry): Promise<AuditEntry> {
    requireText("audit actor", entry.actor);
    requireText("audit action", entry.action);
    requireJson(`audit entry ${entry.action}`, entry.detail);
    const stored = { ...entry, id: randomUUID() };
    await this.db
      .insertInto("audit_log")
      .values({
        id: stored.id,
        time: stored.time,
        actor: stored.actor,
        action: stored.action,
        target: stored.target,
        detail: stored.detail,
      })
      .execute();
    return stored;
  }

  async auditLog(limit: number): Promise<AuditEntry[]> {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`audit log limit ${limit} is not a positive integer`);
    const rows = await this.db
      .selectFrom("audit_log")
      .selectAll()
      .orderBy("time", "desc")
      .orderBy("id")
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      id: row.id,
      time: toNumber(row.time),
      actor: row.actor,
      action: row.action,
      target: row.target,
      detail: row.detail,
    }));
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

function sensorFromRow(row: Selectable<Database["sensors"]>): Sensor {
  return {
    id: row.id,
    clientId: row.client_id,
    secretHash: row.secret_hash,
    name: row.name,
    cluster: row.cluster,
    labels: JSON.parse(row.labels) as Record<string, string>,
    registeredAt: toNumber(row.registered_at),
    lastSeenAt: row.last_seen_at === null ? null : toNumber(row.last_seen_at),
    status: row.status as SensorStatus,
  };
}

function requireText(what: string, value: unknown): void {
  if (typeof value !== "string" || value.length === 0) throw new Error(`${what} is empty or not a string`);
}

function requireJson(what: string, text: string): void {
  try {
    JSON.parse(text);
  } catch (err) {
    throw new Error(`${what}: document is not JSON (${(err as Error).message})`);
  }
}

function requireRole(role: string): void {
  if (!roles.includes(role as Role)) throw new Error(`role "${role}" is not one of ${roles.join(", ")}`);
}

function validateBatch(batch: TelemetryBatch): void {
  requireText("telemetry batch: sensor id", batch.sensorId);
  requireText(`telemetry batch from sensor ${batch.sensorId}: batch id`, batch.batchId);
  const where = `telemetry batch ${batch.batchId} from sensor ${batch.sensorId}`;
  batch.records.forEach((r, i) => {
    requireText(`${where}, record ${i}: kind`, r.kind);
    if (typeof r.time !== "bigint" || r.time < 0n) throw new Error(`${where}, record ${i}: time is not a bigint ≥ 0`);
    if (typeof r.body !== "string") throw new Error(`${where}, record ${i}: body is not JSON text`);
  });
  batch.losses.forEach((g, i) => {
    if (g.toTime < g.fromTime) throw new Error(`${where}, loss gap ${i}: ends before it starts`);
    if (!Number.isInteger(g.count) || g.count < 1) throw new Error(`${where}, loss gap ${i}: count is not ≥ 1`);
  });
}
