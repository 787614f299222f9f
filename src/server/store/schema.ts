import type { ColumnType } from "kysely";

// Integer columns are 64-bit in both databases. PostgreSQL's driver hands int8 back as a string and
// SQLite's (with safe integers on) as a bigint, so every read goes through `toBigInt`/`toNumber`.
type Int64 = ColumnType<bigint | number | string, bigint | number, bigint | number>;
type NullableInt64 = ColumnType<bigint | number | string | null, bigint | number | null, bigint | number | null>;

/** The tables as the migrations create them; column names in snake_case, as on the wire. */
export interface Database {
  sensors: {
    id: string;
    client_id: string;
    secret_hash: string;
    name: string;
    cluster: string | null;
    /** JSON object of string → string. */
    labels: string;
    registered_at: Int64;
    last_seen_at: NullableInt64;
    status: string;
  };
  access_tokens: {
    token_hash: string;
    sensor_id: string | null;
    user_id: string | null;
    issued_at: Int64;
    expires_at: Int64;
  };
  telemetry_batches: {
    sensor_id: string;
    batch_id: string;
    received_at: Int64;
    record_count: Int64;
  };
  events: {
    sensor_id: string;
    batch_id: string;
    seq: Int64;
    time: Int64;
    kind: string;
    severity: string | null;
    rule: string | null;
    container_id: string | null;
    body: string;
  };
  loss_gaps: {
    sensor_id: string;
    batch_id: string;
    seq: Int64;
    from_time: Int64;
    to_time: Int64;
    count: Int64;
  };
  policies: {
    name: string;
    document: string;
    updated_at: Int64;
  };
  bundle_versions: {
    version: Int64;
    digest: string;
    document: string;
    published_at: Int64;
  };
  users: {
    id: string;
    name: string;
    password_hash: string;
    role: string;
    created_at: Int64;
  };
  audit_log: {
    id: string;
    time: Int64;
    actor: string;
    action: string;
    target: string | null;
    detail: string;
  };
}

export function toBigInt(value: bigint | number | string): bigint {
  return typeof value === "bigint" ? value : BigInt(value);
}

/** For values that fit a double by construction: milliseconds, counts, versions. */
export function toNumber(value: bigint | number | string): number {
  return typeof value === "number" ? value : Number(value);
}
