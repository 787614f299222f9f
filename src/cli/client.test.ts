import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { QUERY_EXIT, query, SensorUnreachable, socketPath } from "./client.js";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "vigil-client-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** A listener on a temp socket that does `onConnection` with each client. */
async function listener(name: string, onConnection: (socket: Socket) => void): Promise<[string, Server]> {
  const path = join(dir, name);
  const server = createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return [path, server];
}

test("the socket path: --socket, else VIGIL_SOCKET, else /run/vigil/vigil.sock", () => {
  const saved = process.env.VIGIL_SOCKET;
  try {
    delete process.env.VIGIL_SOCKET;
    assert.equal(socketPath(undefined), "/run/vigil/vigil.sock");
    process.env.VIGIL_SOCKET = "/tmp/env.sock";
    assert.equal(socketPath(undefined), "/tmp/env.sock");
    assert.equal(socketPath("/tmp/opt.sock"), "/tmp/opt.sock");
  } finally {
    if (saved === undefined) delete process.env.VIGIL_SOCKET;
    else process.env.VIGIL_SOCKET = saved;
  }
});

test("no socket: no sensor is running, exit status 2, the path named", async () => {
  const path = join(dir, "absent.sock");
  await assert.rejects(query(path, "version"), (err: SensorUnreachable) => {
    assert.ok(err instanceof SensorUnreachable);
    assert.equal(err.exitCode, QUERY_EXIT.noSensor);
    assert.equal(err.message, `no sensor is running (no answer on ${path})`);
    assert.equal(err.status, `not running (no answer on ${path})`);
    return true;
  });
});

test("a listener that never answers times out", async () => {
  const [path, server] = await listener("mute.sock", () => undefined);
  try {
    await assert.rejects(query(path, "version", {}, 200), {
      name: "SensorUnreachable",
      message: `the sensor did not answer on ${path} within 0.2 s`,
    });
  } finally {
    server.close();
  }
});

test("a listener that hangs up without answering is reported as such", async () => {
  const [path, server] = await listener("rude.sock", (s) => s.end());
  try {
    await assert.rejects(query(path, "version"), {
      name: "SensorUnreachable",
      message: `the sensor on ${path} closed the connection without answering`,
    });
  } finally {
    server.close();
  }
});

test("an answer that is not a control response is an error, not a hang", async () => {
  const [path, server] = await listener("http.sock", (s) => s.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
  try {
    await assert.rejects(query(path, "version"), /not valid JSON|not a control response/);
  } finally {
    server.close();
  }
});
