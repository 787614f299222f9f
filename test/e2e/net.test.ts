import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { progs, type RunningSensor, requireKernel, run, startSensor, type WireEvent } from "./harness.js";

const exec = promisify(execFile);

/** What the tester programs print (test/progs/net-*.c). */
interface Printed {
  "net-tcp": {
    pid: number;
    listen_fd: number;
    port: number;
    client_fd: number;
    client_port: number;
    connect_result: number;
    accept_fd: number;
  };
  "net-unix": { pid: number; listen_fd: number; client_fd: number; accept_fd: number };
  "net-dgram": { pid: number; fd: number; local_port: number; result: number };
  "net-fail": {
    pid: number;
    port: number;
    refused_fd: number;
    refused: number;
    inuse_fd: number;
    inuse: number;
    udp_fd: number;
    listen_udp: number;
    accept_fd: number;
    accept_again: number;
    null_fd: number;
    notsock: number;
  };
  "net-dns": { pid: number; fd: number; local_port: number; size: number };
}

/** Runs a tester program and returns the JSON it prints. */
async function tester<N extends keyof Printed>(name: N, ...args: string[]): Promise<Printed[N]> {
  const { stdout } = await exec(join(progs, name), args);
  return JSON.parse(stdout) as Printed[N];
}

type NetPart = {
  family: string | null;
  type: string | null;
  protocol: string | null;
  fd: number;
  result: number;
  local: { address: string; port: number | null } | null;
  remote: { address: string; port: number | null } | null;
  [more: string]: unknown;
};
type NetEvent = WireEvent & { net: NetPart; dns?: Record<string, unknown> };

const SOCK_CLOEXEC = 0o2000000;
const E = { EAGAIN: 11, ENOTSOCK: 88, EOPNOTSUPP: 95, EADDRINUSE: 98, ECONNREFUSED: 111, EINPROGRESS: 115 };

describe("network events from the real kernel", () => {
  let sensor: RunningSensor | undefined;
  let work: string;

  /** The events of `kind` from process `pid`, once `count` of them have arrived. */
  async function eventsOf(kind: string, pid: number, count = 1): Promise<NetEvent[]> {
    const mine = (e: WireEvent) => e.kind === kind && e.process.pid === pid;
    const s = sensor as RunningSensor;
    await s.waitFor(() => s.events().filter(mine).length >= count, `${count} ${kind} of pid ${pid}`);
    return s.events().filter(mine) as NetEvent[];
  }
  const one = async (kind: string, pid: number) => (await eventsOf(kind, pid))[0] as NetEvent;
  /** The event of `kind` from `pid` on socket `fd`. */
  async function onFd(kind: string, pid: number, fd: number): Promise<NetPart> {
    const s = sensor as RunningSensor;
    const match = (e: WireEvent) => e.kind === kind && e.process.pid === pid && (e as NetEvent).net.fd === fd;
    return ((await s.waitFor(match, `${kind} of pid ${pid} on fd ${fd}`)) as NetEvent).net;
  }

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    work = mkdtempSync(join(tmpdir(), "vigil-net-"));
    // Default interest: what a sensor sends unless told otherwise.
    sensor = await startSensor();
  });

  after(async () => {
    if (sensor) await sensor.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("TCP over IPv4: bind, listen, connect and accept with exact addresses, ports and fds", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const o = await tester("net-tcp", "4");
    const sock = { family: "ipv4", type: "stream", protocol: "tcp" };
    const server = { address: "127.0.0.1", port: o.port };
    const client = { address: "127.0.0.1", port: o.client_port };

    assert.deepEqual((await one("net.bind", o.pid)).net, {
      ...sock,
      fd: o.listen_fd,
      result: 0,
      local: server,
      remote: null,
    });
    assert.deepEqual((await one("net.listen", o.pid)).net, {
      ...sock,
      fd: o.listen_fd,
      result: 0,
      local: server,
      remote: null,
      backlog: 7,
    });
    const connect = await one("net.connect", o.pid);
    assert.deepEqual(connect.net, { ...sock, fd: o.client_fd, result: 0, local: client, remote: server });
    assert.equal(connect.process.comm, "net-tcp");
    assert.equal(connect.process.exe, join(progs, "net-tcp"));
    // No address buffer was passed to accept4: the peer comes from the new socket.
    assert.deepEqual((await one("net.accept", o.pid)).net, {
      ...sock,
      fd: o.listen_fd,
      result: o.accept_fd,
      local: server,
      remote: client,
      flags: SOCK_CLOEXEC,
    });
  });

  test("TCP over IPv6: a non-blocking connect reports -EINPROGRESS and its source port", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const o = await tester("net-tcp", "6", "nonblock");
    assert.equal(o.connect_result, -E.EINPROGRESS);
    const connect = (await one("net.connect", o.pid)).net;
    assert.deepEqual(connect, {
      family: "ipv6",
      type: "stream",
      protocol: "tcp",
      fd: o.client_fd,
      result: -E.EINPROGRESS,
      local: { address: "::1", port: o.client_port },
      remote: { address: "::1", port: o.port },
    });
    const accept = (await one("net.accept", o.pid)).net;
    assert.deepEqual(
      [accept.result, accept.local, accept.remote],
      [o.accept_fd, { address: "::1", port: o.port }, { address: "::1", port: o.client_port }],
    );
  });

  test("an IPv4-mapped IPv6 address is shown as given", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const o = await tester("net-tcp", "mapped");
    assert.deepEqual((await one("net.bind", o.pid)).net.local, { address: "::", port: o.port });
    const connect = (await one("net.connect", o.pid)).net;
    assert.deepEqual(
      [connect.family, connect.remote, connect.local],
      ["ipv6", { address: "::ffff:127.0.0.1", port: o.port }, { address: "::ffff:127.0.0.1", port: o.client_port }],
    );
    const accept = (await one("net.accept", o.pid)).net;
    assert.deepEqual(accept.remote, { address: "::ffff:127.0.0.1", port: o.client_port });
  });

  test("Unix stream sockets by path and by abstract name", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const path = join(work, "server.sock");
    for (const name of [path, `@vigil-net-${process.pid}`]) {
      const o = await tester("net-unix", name);
      const sock = { family: "unix", type: "stream", protocol: null };
      const addr = { address: name, port: null };
      assert.deepEqual((await one("net.bind", o.pid)).net, {
        ...sock,
        fd: o.listen_fd,
        result: 0,
        local: addr,
        remote: null,
      });
      assert.deepEqual((await one("net.listen", o.pid)).net, {
        ...sock,
        fd: o.listen_fd,
        result: 0,
        local: addr,
        remote: null,
        backlog: 3,
      });
      // The client is unnamed; the accepted socket carries the server's name, its peer none.
      assert.deepEqual((await one("net.connect", o.pid)).net, {
        ...sock,
        fd: o.client_fd,
        result: 0,
        local: null,
        remote: addr,
      });
      assert.deepEqual((await one("net.accept", o.pid)).net, {
        ...sock,
        fd: o.listen_fd,
        result: o.accept_fd,
        local: addr,
        remote: null,
        flags: 0,
      });
    }
  });

  test("datagram sockets: a UDP connect gets its source port; a raw ICMP socket has no ports", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const udp = await tester("net-dgram", "udp4", "127.0.0.1", "9");
    assert.deepEqual((await one("net.connect", udp.pid)).net, {
      family: "ipv4",
      type: "dgram",
      protocol: "udp",
      fd: udp.fd,
      result: 0,
      local: { address: "127.0.0.1", port: udp.local_port },
      remote: { address: "127.0.0.1", port: 9 },
    });
    const udp6 = await tester("net-dgram", "udp6", "::1", "9");
    const c6 = (await one("net.connect", udp6.pid)).net;
    assert.deepEqual(
      [c6.family, c6.local, c6.remote],
      ["ipv6", { address: "::1", port: udp6.local_port }, { address: "::1", port: 9 }],
    );
    const raw = await tester("net-dgram", "raw4", "127.0.0.1", "0");
    const r = (await one("net.connect", raw.pid)).net;
    assert.deepEqual([r.type, r.protocol, r.result, r.remote], ["raw", "icmp", 0, { address: "127.0.0.1", port: 0 }]);
  });

  test("failed calls report -errno", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const o = await tester("net-fail");
    assert.deepEqual(
      [o.refused, o.inuse, o.listen_udp, o.accept_again, o.notsock],
      [-E.ECONNREFUSED, -E.EADDRINUSE, -E.EOPNOTSUPP, -E.EAGAIN, -E.ENOTSOCK],
    );
    const target = { address: "127.0.0.1", port: o.port };
    const refused = await onFd("net.connect", o.pid, o.refused_fd);
    assert.deepEqual([refused.result, refused.protocol, refused.remote], [-E.ECONNREFUSED, "tcp", target]);
    // A failed bind reports the address asked for.
    const inuse = await onFd("net.bind", o.pid, o.inuse_fd);
    assert.deepEqual([inuse.result, inuse.local], [-E.EADDRINUSE, target]);
    const listen = await onFd("net.listen", o.pid, o.udp_fd);
    assert.deepEqual([listen.result, listen.protocol, listen.local], [-E.EOPNOTSUPP, "udp", null]);
    // A failed accept has no new socket: the listening one's address is reported.
    const accept = await onFd("net.accept", o.pid, o.accept_fd);
    assert.deepEqual([accept.result, accept.remote, accept.local?.address], [-E.EAGAIN, null, "127.0.0.1"]);
    const notsock = await onFd("net.connect", o.pid, o.null_fd);
    assert.deepEqual(notsock, {
      family: null,
      type: null,
      protocol: null,
      fd: o.null_fd,
      result: -E.ENOTSOCK,
      local: null,
      remote: target,
    });
  });

  describe("DNS queries to port 53", () => {
    const A = 1;
    const TXT = 16;
    const query = (id: number, name: string, type: string, code: number) => ({
      id,
      opcode: "QUERY",
      response: false,
      question_count: 1,
      name,
      type,
      type_code: code,
      class: "IN",
      error: null,
    });

    test("sendto on an unconnected socket, IPv4 and IPv6", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const o = await tester("net-dns", "sendto", "example.invalid", String(A), "4660");
      const e = await one("net.dns", o.pid);
      assert.deepEqual(e.net, {
        family: "ipv4",
        type: "dgram",
        protocol: "udp",
        fd: o.fd,
        result: o.size,
        local: { address: "0.0.0.0", port: o.local_port },
        remote: { address: "127.0.0.1", port: 53 },
        syscall: "sendto",
        size: o.size,
      });
      assert.deepEqual(e.dns, query(4660, "example.invalid", "A", A));
      const o6 = await tester("net-dns", "sendto6", "vigil.test", String(TXT), "7");
      const e6 = await one("net.dns", o6.pid);
      assert.deepEqual([e6.net.family, e6.net.remote], ["ipv6", { address: "::1", port: 53 }]);
      assert.deepEqual(e6.dns, query(7, "vigil.test", "TXT", TXT));
    });

    test("send, write and sendmsg on a connected socket", async (t) => {
      if (!sensor) return t.skip("no kernel");
      for (const [mode, syscall] of [
        ["send", "sendto"],
        ["write", "write"],
        ["sendmsg", "sendmsg"],
      ]) {
        const o = await tester("net-dns", mode as string, `${mode}.example.invalid`, "15", "99");
        const e = await one("net.dns", o.pid);
        assert.deepEqual(e.net, {
          family: "ipv4",
          type: "dgram",
          protocol: "udp",
          fd: o.fd,
          result: o.size,
          local: { address: "127.0.0.1", port: o.local_port },
          remote: { address: "127.0.0.1", port: 53 },
          syscall,
          size: o.size,
        });
        assert.deepEqual(e.dns, query(99, `${mode}.example.invalid`, "MX", 15));
      }
    });

    test("sendmmsg: one event per message sent", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const o = await tester("net-dns", "sendmmsg", "mmsg.example.invalid", String(A), "500");
      const events = await eventsOf("net.dns", o.pid, 2);
      assert.deepEqual(
        events.map((e) => [e.net.syscall, e.net.result, e.net.remote, e.dns?.id, e.dns?.name, e.dns?.type]),
        [
          ["sendmmsg", o.size, { address: "127.0.0.1", port: 53 }, 500, "mmsg.example.invalid", "A"],
          ["sendmmsg", o.size, { address: "127.0.0.1", port: 53 }, 501, "mmsg.example.invalid", "AAAA"],
        ],
      );
    });

    test("a malformed query is reported with an error", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const o = await tester("net-dns", "loop");
      const e = await one("net.dns", o.pid);
      assert.equal(e.net.size, 18);
      assert.equal(e.dns?.name, null);
      assert.match(String(e.dns?.error), /compression pointer at 12 to 12 does not point back/);
    });

    test("glibc's resolver (getent ahosts) with a private resolv.conf naming 127.0.0.1", async (t) => {
      if (!sensor) return t.skip("no kernel");
      const conf = join(work, "resolv.conf");
      writeFileSync(conf, "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n");
      // Only in a private mount namespace, and only once the bind mount worked, so the query
      // never goes to the host's own name server.
      const child = await run("unshare", [
        "--mount",
        "sh",
        "-c",
        `mount --bind "${conf}" /etc/resolv.conf && exec getent ahosts example.invalid`,
      ]);
      assert.equal(child.code, 2, "getent finds nothing");
      const events = await eventsOf("net.dns", child.pid, 2);
      const seen = events.map((e) => [e.process.comm, e.net.remote, e.dns?.name, e.dns?.type]);
      assert.deepEqual(seen.slice(0, 2), [
        ["getent", { address: "127.0.0.1", port: 53 }, "example.invalid", "A"],
        ["getent", { address: "127.0.0.1", port: 53 }, "example.invalid", "AAAA"],
      ]);
      assert.equal(events[0]?.net.syscall, "sendmmsg", "glibc sends A and AAAA in one sendmmsg");
    });
  });

  test("the sensor stops with nothing lost and no decode errors", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const running = sensor;
    sensor = undefined;
    assert.equal(await running.stop(), 0);
    const stopped = running.logs().find((l) => l.msg === "sensor stopped");
    assert.ok(stopped, "logs its final statistics");
    assert.equal(stopped.lostRecords, 0);
    assert.deepEqual(stopped.decodeErrors, { truncated: 0, unknown_op: 0, malformed: 0 });
  });
});

describe("in-kernel filtering of network events", () => {
  let sensor: RunningSensor | undefined;
  let work: string;

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    work = mkdtempSync(join(tmpdir(), "vigil-net-filter-"));
    const interest = join(work, "interest.json");
    writeFileSync(interest, JSON.stringify({ kinds: {}, ignoreComms: ["net-dgram"] }));
    sensor = await startSensor(["--interest", interest]);
  });

  after(async () => {
    if (sensor) await sensor.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("an ignored comm's connect never reaches user space and is counted as filtered", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const ignored = await tester("net-dgram", "udp4", "127.0.0.1", "9");
    // Records arrive in the order they were made: once a later connect is in, the ignored one would be too.
    const later = await tester("net-tcp", "4");
    await sensor.waitFor((e) => e.kind === "net.connect" && e.process.pid === later.pid, "the later connect");
    await sensor.waitFor((e) => e.kind === "process.exec" && e.process.pid === ignored.pid, "the ignored exec");
    assert.deepEqual(
      sensor.events().filter((e) => e.kind.startsWith("net.") && e.process.pid === ignored.pid),
      [],
      "no network event of the ignored process",
    );
    const running = sensor;
    sensor = undefined;
    assert.equal(await running.stop(), 0);
    const stopped = running.logs().find((l) => l.msg === "sensor stopped") as { filtered: Record<string, number> };
    assert.ok((stopped.filtered["net.connect"] ?? 0) >= 1, `net.connect filtered: ${JSON.stringify(stopped.filtered)}`);
  });
});
