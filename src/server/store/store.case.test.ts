import assert from "node:assert/strict";
import { after, afterEach, describe, test } from "node:test";
import type { NewSensor, Store, TelemetryBatch, TelemetryRecord } from "./index.js";

/** How one implementation is reached: `open` gives a fresh, empty, migrated store each time. */
export interface StoreHarness {
  open(): Promise<Store>;
  dispose?(): Promise<void> | void;
}

const T0 = 1_764_000_000_000;
// Beyond 2^53: a time that a double would round.
const NS = 1_764_000_000_123_456_789n;

const sensorA: NewSensor = {
  id: "sensor-a",
  clientId: "client-a",
  secretHash: "sha256:aaaa",
  name: "node-1",
  cluster: "prod",
  labels: { zone: "eu-1" },
  registeredAt: T0,
};

const exec = (i: number): TelemetryRecord => ({
  kind: "process.exec",
  time: NS + BigInt(i),
  severity: null,
  rule: null,
  containerId: "c0ffee",
  body: `{"kind":"process.exec","time":${NS + BigInt(i)},"process":{"pid":${4242 + i}}}`,
});

const alert: TelemetryRecord = {
  kind: "alert",
  time: NS + 100n,
  severity: "high",
  rule: "read-shadow",
  containerId: null,
  body: '{"kind":"alert","rule":{"id":"read-shadow"}}',
};

const batch = (batchId: string, records: TelemetryRecord[], extra: Partial<TelemetryBatch> = {}): TelemetryBatch => ({
  sensorId: sensorA.id,
  batchId,
  receivedAt: T0 + 1000,
  records,
  losses: [],
  ...extra,
});

/** The behaviour every Store must have; each implementation's test file is one call of this. */
export function storeConformance(name: string, harness: () => Promise<StoreHarness | string>): void {
  describe(`store conformance: ${name}`, async () => {
    const reached = await harness();
    const skip = typeof reached === "string" ? reached : false;
    const open: StoreHarness =
      typeof reached === "string" ? { open: () => Promise.reject(new Error(reached)) } : reached;
    let store: Store | undefined;
    const fresh = async () => {
      store = await open.open();
      return store;
    };
    afterEach(async () => {
      await store?.close();
      store = undefined;
    });
    after(async () => {
      await open.dispose?.();
    });

    test("a registered sensor is found by id and client id, listed by cluster, and cannot register twice", {
      skip,
    }, async () => {
      const s = await fresh();
      const registered = await s.registerSensor(sensorA);
      assert.equal(registered.status, "active");
      assert.equal(registered.lastSeenAt, null);
      await s.registerSensor({ ...sensorA, id: "sensor-b", clientId: "client-b", name: "node-2", cluster: "dev" });
      assert.deepEqual(await s.sensor("sensor-a"), registered);
      assert.equal((await s.sensorByClientId("client-b"))?.id, "sensor-b");
      assert.deepEqual(
        (await s.sensors({ cluster: "prod" })).map((x) => x.id),
        ["sensor-a"],
      );
      assert.equal((await s.sensors()).length, 2);
      await assert.rejects(
        s.registerSensor({ ...sensorA, id: "sensor-c" }),
        /client id client-a is already registered/,
      );
      await s.setSensorStatus("sensor-a", "revoked");
      assert.equal((await s.sensor("sensor-a"))?.status, "revoked");
      await assert.rejects(s.setSensorStatus("sensor-a", "gone" as "revoked"), /sensor status "gone" is not one of/);
      await assert.rejects(s.setSensorStatus("nope", "active"), /no sensor with id nope/);
    });

    test("a token is valid until it expires, gone once revoked, and has one holder", { skip }, async () => {
      const s = await fresh();
      await s.registerSensor(sensorA);
      const token = {
        tokenHash: "sha256:t1",
        sensorId: sensorA.id,
        userId: null,
        issuedAt: T0,
        expiresAt: T0 + 60_000,
      };
      await s.issueToken(token);
      assert.deepEqual(await s.validToken("sha256:t1", T0 + 59_999), token);
      assert.equal(await s.validToken("sha256:t1", T0 + 60_000), undefined);
      await s.issueToken({ ...token, tokenHash: "sha256:t2", expiresAt: T0 + 120_000 });
      assert.equal(await s.removeExpiredTokens(T0 + 60_000), 1);
      await s.revokeToken("sha256:t2");
      assert.equal(await s.validToken("sha256:t2", T0), undefined);
      await assert.rejects(s.issueToken({ ...token, tokenHash: "sha256:t3", sensorId: null }), /exactly one holder/);
    });

    test("a batch is stored once: a retried batch id stores nothing and reports it", { skip }, async () => {
      const s = await fresh();
      await s.registerSensor(sensorA);
      const first = batch("b-1", [exec(0), exec(1), alert], {
        losses: [{ fromTime: NS - 10n, toTime: NS - 1n, count: 17 }],
      });
      assert.equal(await s.ingestBatch(first), true);
      assert.equal(await s.ingestBatch(first), false);
      // A retry whose content changed (a re-encoded spool) is still the same batch.
      assert.equal(await s.ingestBatch(batch("b-1", [exec(9)])), false);
      const stored = await s.records({ sensorId: sensorA.id });
      assert.equal(stored.length, 3);
      assert.deepEqual(stored[0], { ...alert, sensorId: sensorA.id, batchId: "b-1", seq: 2 });
      assert.equal(stored[2]?.time, NS, "nanoseconds survive beyond 2^53");
      assert.deepEqual(await s.lossGaps(sensorA.id), [
        { sensorId: sensorA.id, batchId: "b-1", fromTime: NS - 10n, toTime: NS - 1n, count: 17 },
      ]);
      assert.equal((await s.sensor(sensorA.id))?.lastSeenAt, T0 + 1000);
    });

    test("concurrent retries of one batch store its events once", { skip }, async () => {
      const s = await fresh();
      await s.registerSensor(sensorA);
      const records = Array.from({ length: 1200 }, (_, i) => exec(i));
      const results = await Promise.all(Array.from({ length: 4 }, () => s.ingestBatch(batch("b-race", records))));
      assert.equal(results.filter(Boolean).length, 1);
      assert.equal((await s.records({ sensorId: sensorA.id, limit: 5000 })).length, 1200);
    });

    test("records are queried by kind and time window, newest first, up to a limit", { skip }, async () => {
      const s = await fresh();
      await s.registerSensor(sensorA);
      await s.ingestBatch(batch("b-1", [exec(0), exec(1), exec(2), alert]));
      assert.deepEqual(
        (await s.records({ kind: "process.exec", since: NS + 1n, until: NS + 3n })).map((r) => r.time),
        [NS + 2n, NS + 1n],
      );
      assert.equal((await s.records({ limit: 1 }))[0]?.kind, "alert");
      await assert.rejects(s.records({ limit: 0 }), /limit 0 is not a positive integer/);
    });

    test("a bad batch is refused with what is wrong, and stores nothing", { skip }, async () => {
      const s = await fresh();
      await s.registerSensor(sensorA);
      await assert.rejects(s.ingestBatch(batch("", [exec(0)])), /batch id is empty/);
      await assert.rejects(
        s.ingestBatch(batch("b-1", [exec(0), { ...exec(1), kind: "" }])),
        /batch b-1 from sensor sensor-a, record 1: kind is empty/,
      );
      await assert.rejects(
        s.ingestBatch(batch("b-1", [], { losses: [{ fromTime: 2n, toTime: 1n, count: 1 }] })),
        /loss gap 0: ends before it starts/,
      );
      await assert.rejects(s.ingestBatch(batch("b-1", [exec(0)], { sensorId: "ghost" })), /no sensor with id ghost/);
      await assert.rejects(
        s.ingestBatch(batch("b-2", [{ ...exec(0), body: null as unknown as string }])),
        /record 0: body is not JSON text/,
      );
      // A failure inside the transaction (a time beyond 64 bits, which only the database refuses)
      // rolls back the batch row too, so the retry is stored rather than taken for a duplicate.
      await assert.rejects(s.ingestBatch(batch("b-3", [exec(0), { ...exec(1), time: 2n ** 63n }])));
      assert.equal((await s.records({})).length, 0);
      assert.equal(await s.ingestBatch(batch("b-3", [exec(0)])), true);
      assert.equal((await s.records({})).length, 1);
    });

    test("policies are replaced by name; bundle versions only grow", { skip }, async () => {
      const s = await fresh();
      await s.putPolicy({ name: "sensitive-files", document: '{"v":1}', updatedAt: T0 });
      await s.putPolicy({ name: "sensitive-files", document: '{"v":2}', updatedAt: T0 + 1 });
      await s.putPolicy({ name: "reverse-shells", document: "{}", updatedAt: T0 });
      assert.deepEqual(
        (await s.policies()).map((p) => [p.name, p.document]),
        [
          ["reverse-shells", "{}"],
          ["sensitive-files", '{"v":2}'],
        ],
      );
      assert.equal(await s.deletePolicy("reverse-shells"), true);
      assert.equal(await s.deletePolicy("reverse-shells"), false);
      await assert.rejects(s.putPolicy({ name: "x", document: "{", updatedAt: T0 }), /policy x: document is not JSON/);

      assert.equal(await s.latestBundle(), undefined);
      assert.equal((await s.publishBundle({ digest: "sha256:1", document: "[]", publishedAt: T0 })).version, 1);
      assert.equal((await s.publishBundle({ digest: "sha256:2", document: "[]", publishedAt: T0 })).version, 2);
      assert.equal((await s.latestBundle())?.digest, "sha256:2");
      await assert.rejects(s.publishBundle({ digest: "sha256:2", document: "[]", publishedAt: T0 }));
    });

    test("users have one role of the known set; the audit log reads newest first", { skip }, async () => {
      const s = await fresh();
      const user = { id: "u1", name: "ada", passwordHash: "argon2:x", role: "viewer" as const, createdAt: T0 };
      await s.createUser(user);
      assert.deepEqual(await s.userByName("ada"), user);
      await assert.rejects(s.createUser({ ...user, id: "u2" }), /user ada \(id u2\) already exists/);
      await s.setUserRole("u1", "admin");
      assert.equal((await s.userByName("ada"))?.role, "admin");
      await assert.rejects(s.setUserRole("u1", "root" as "admin"), /role "root" is not one of admin, operator, viewer/);

      await s.appendAudit({ time: T0, actor: "ada", action: "policy.put", target: "sensitive-files", detail: "{}" });
      await s.appendAudit({ time: T0 + 1, actor: "ada", action: "sensor.revoke", target: "sensor-a", detail: "{}" });
      assert.deepEqual(
        (await s.auditLog(10)).map((e) => e.action),
        ["sensor.revoke", "policy.put"],
      );
    });
  });
}
