/**
 * What the team server keeps, behind one interface with two implementations: SQLite (the
 * embedded default, one file) and PostgreSQL (many server replicas on one database). Secrets,
 * tokens and passwords arrive here already hashed; the store never sees them in the clear.
 * Times are milliseconds since the epoch, except event times, which are the sensor's nanoseconds.
 */

export type SensorStatus = "active" | "disabled" | "revoked";
export const sensorStatuses: readonly SensorStatus[] = ["active", "disabled", "revoked"];

export interface Sensor {
  id: string;
  clientId: string;
  secretHash: string;
  name: string;
  cluster: string | null;
  labels: Record<string, string>;
  registeredAt: number;
  lastSeenAt: number | null;
  status: SensorStatus;
}

export type NewSensor = Omit<Sensor, "lastSeenAt" | "status">;

/** A bearer token, held by a sensor or by a user, never both. */
export interface AccessToken {
  tokenHash: string;
  sensorId: string | null;
  userId: string | null;
  issuedAt: number;
  expiresAt: number;
}

/** One event or alert as the sensor sent it; `body` is the record's JSON text, kept as received. */
export interface TelemetryRecord {
  kind: string;
  time: bigint;
  severity: string | null;
  rule: string | null;
  containerId: string | null;
  body: string;
}

/** Records the sensor could not deliver (ring-buffer loss, spool overflow) between two times. */
export interface LossGap {
  fromTime: bigint;
  toTime: bigint;
  count: number;
}

/** One upload from a sensor's spool. The batch id is the sensor's, unique per sensor, reused on retry. */
export interface TelemetryBatch {
  sensorId: string;
  batchId: string;
  receivedAt: number;
  records: TelemetryRecord[];
  losses: LossGap[];
}

export interface StoredRecord extends TelemetryRecord {
  sensorId: string;
  batchId: string;
  seq: number;
}

export interface StoredLossGap extends LossGap {
  sensorId: string;
  batchId: string;
}

export interface RecordQuery {
  sensorId?: string;
  kind?: string;
  /** Nanoseconds, inclusive. */
  since?: bigint;
  /** Nanoseconds, exclusive. */
  until?: bigint;
  /** Newest first; at most this many. */
  limit?: number;
}

export interface Policy {
  name: string;
  /** The policy's JSON text. */
  document: string;
  updatedAt: number;
}

/** A published policy bundle: what sensors download. Versions only grow. */
export interface BundleVersion {
  version: number;
  digest: string;
  document: string;
  publishedAt: number;
}

export type Role = "admin" | "operator" | "viewer";
export const roles: readonly Role[] = ["admin", "operator", "viewer"];

export interface User {
  id: string;
  name: string;
  passwordHash: string;
  role: Role;
  createdAt: number;
}

export interface AuditEntry {
  id: string;
  time: number;
  /** Who: a user name or `sensor:<id>`. */
  actor: string;
  action: string;
  target: string | null;
  /** JSON text with what changed. */
  detail: string;
}

export type NewAuditEntry = Omit<AuditEntry, "id">;

export interface Store {
  /** "sqlite" or "postgres": for logs and `vigil server`'s start-up line. */
  readonly dialect: string;

  registerSensor(sensor: NewSensor): Promise<Sensor>;
  sensor(id: string): Promise<Sensor | undefined>;
  sensorByClientId(clientId: string): Promise<Sensor | undefined>;
  sensors(filter?: { cluster?: string }): Promise<Sensor[]>;
  setSensorStatus(id: string, status: SensorStatus): Promise<void>;

  issueToken(token: AccessToken): Promise<void>;
  /** The token if it exists and has not expired at `now`. */
  validToken(tokenHash: string, now: number): Promise<AccessToken | undefined>;
  revokeToken(tokenHash: string): Promise<void>;
  /** Returns how many expired tokens were removed. */
  removeExpiredTokens(now: number): Promise<number>;

  /**
   * Stores a batch in one transaction. Returns false, storing nothing, when this sensor's batch id
   * was stored before: a retry after a lost reply never duplicates events.
   */
  ingestBatch(batch: TelemetryBatch): Promise<boolean>;
  records(query: RecordQuery): Promise<StoredRecord[]>;
  lossGaps(sensorId: string): Promise<StoredLossGap[]>;

  putPolicy(policy: Policy): Promise<void>;
  policies(): Promise<Policy[]>;
  deletePolicy(name: string): Promise<boolean>;
  publishBundle(bundle: Omit<BundleVersion, "version">): Promise<BundleVersion>;
  latestBundle(): Promise<BundleVersion | undefined>;

  createUser(user: User): Promise<void>;
  userByName(name: string): Promise<User | undefined>;
  setUserRole(id: string, role: Role): Promise<void>;

  appendAudit(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Newest first. */
  auditLog(limit: number): Promise<AuditEntry[]>;

  close(): Promise<void>;
}

export { openStore, parseStoreUrl, type StoreLocation } from "./open.js";
