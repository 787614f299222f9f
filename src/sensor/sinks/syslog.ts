import { createSocket as createUdpSocket } from "node:dgram";
import type { EventEmitter } from "node:events";
import { createRequire } from "node:module";
import { connect as connectTcp, isIP, type Socket } from "node:net";
import { constants, hostname } from "node:os";
import type { Alert } from "../../events/alert.js";
import type { Logger } from "../../log.js";
import { QueuedAlertSink } from "./alert-sink.js";
import { Backoff } from "./queue.js";
import { type Facility, formatSyslog } from "./syslog-format.js";

export type SyslogTarget =
  | { transport: "unix"; path: string }
  | { transport: "udp" | "tcp"; host: string; port: number };

/** Where syslog listens when the address gives no port. */
const SYSLOG_PORT = 514;

/** `unix:/dev/log`, `udp://host:port` or `tcp://host:port` (IPv6 in brackets; the port defaults to 514). */
export function parseSyslogTarget(text: string): SyslogTarget {
  if (text.startsWith("unix:")) {
    const path = text.slice("unix:".length).replace(/^\/\/(?=\/)/, "");
    if (!path.startsWith("/")) throw new Error(`syslog socket must be an absolute path: ${text}`);
    return { transport: "unix", path };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`not a syslog address (unix:/dev/log, udp://host:port, tcp://host:port): ${text}`);
  }
  const transport = url.protocol.slice(0, -1);
  if (transport !== "udp" && transport !== "tcp") {
    throw new Error(`syslog goes over unix:, udp:// or tcp://, not ${url.protocol}//: ${text}`);
  }
  if (url.hostname === "") throw new Error(`syslog address has no host: ${text}`);
  if ((url.pathname !== "" && url.pathname !== "/") || url.search || url.username) {
    throw new Error(`syslog address takes a host and a port only: ${text}`);
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return { transport, host, port: url.port ? Number(url.port) : SYSLOG_PORT };
}

export function syslogTargetName(t: SyslogTarget): string {
  if (t.transport === "unix") return `unix:${t.path}`;
  return `${t.transport}://${isIP(t.host) === 6 ? `[${t.host}]` : t.host}:${t.port}`;
}

/** A send that failed for this message alone (too large, say): counted as failed, never retried. */
class MessageError extends Error {}

/** One open way to the collector. A rejection other than MessageError means the way is lost. */
interface Connection {
  send(message: string): Promise<void>;
  close(): void;
}

/** UDP: one datagram a message. Nothing is connected, so nothing is lost but single sends. */
function udpConnection(host: string, port: number): Promise<Connection> {
  const socket = createUdpSocket(isIP(host) === 6 ? "udp6" : "udp4");
  // Errors arrive through the send callbacks; this keeps a stray one from killing the process.
  socket.on("error", () => undefined);
  socket.unref();
  return Promise.resolve({
    send: (message) =>
      new Promise<void>((resolve, reject) =>
        socket.send(message, port, host, (err) => (err ? reject(new MessageError(err.message)) : resolve())),
      ),
    close: () => socket.close(),
  });
}

/** TCP with octet-counting framing (RFC 6587 3.4.1): "LENGTH MESSAGE", LENGTH in bytes. */
function tcpConnection(host: string, port: number): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connectTcp({ host, port });
    let lost: Error | undefined;
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.off("error", reject);
      socket.setKeepAlive(true, 30_000);
      socket.on("error", (err) => {
        lost = err;
      });
      socket.on("close", () => {
        lost ??= new Error("connection closed by the collector");
      });
      resolve({
        send: (message) =>
          new Promise<void>((done, fail) => {
            if (lost) return fail(lost);
            socket.write(`${Buffer.byteLength(message)} ${message}`, (err) => (err ? fail(err) : done()));
          }),
        close: () => socket.destroy(),
      });
    });
  });
}

interface UnixDgramSocket extends EventEmitter {
  connect(path: string): void;
  send(message: Buffer, callback: (err?: Error & { code?: number }) => void): void;
  close(): void;
}

/** unix-dgram reports errno negated; its name says more in a log. */
function errnoName(code: number | undefined): string {
  const found = Object.entries(constants.errno).find(([, n]) => n === -(code ?? 0));
  return found ? found[0] : `errno ${-(code ?? 0)}`;
}

/**
 * A Unix datagram socket (the local daemon's /dev/log): Node's dgram has none, so this uses
 * unix-dgram's small binding. Loaded only when asked for.
 */
function unixConnection(path: string): Promise<Connection> {
  const unixDgram = createRequire(import.meta.url)("unix-dgram") as {
    createSocket(type: "unix_dgram"): UnixDgramSocket;
  };
  return new Promise((resolve, reject) => {
    const socket = unixDgram.createSocket("unix_dgram");
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      socket.close();
      // A send waiting for room learns that it never will.
      socket.emit("writable");
    };
    socket.once("error", (err: Error & { code?: number }) => {
      close();
      reject(new Error(`cannot connect to ${path}: ${errnoName(err.code)}`));
    });
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      socket.on("error", () => undefined);
      const send = (message: Buffer, done: () => void, fail: (err: Error) => void): void => {
        if (closed) {
          fail(new Error("socket closed"));
          return;
        }
        socket.send(message, (err) => {
          if (!err) done();
          // The daemon's buffer is full: the binding polls for room and says "writable".
          else if (err.message === "congestion") socket.once("writable", () => send(message, done, fail));
          else if (errnoName(err.code) === "EMSGSIZE")
            fail(new MessageError(`message of ${message.length} bytes too large`));
          else fail(new Error(`send to ${path}: ${errnoName(err.code)}`));
        });
      };
      resolve({
        send: (message) => new Promise<void>((done, fail) => send(Buffer.from(message), done, fail)),
        close,
      });
    });
    socket.connect(path);
  });
}

export interface SyslogSinkOptions {
  target: SyslogTarget;
  logger: Logger;
  /** Default authpriv: alerts carry command lines and paths, and syslog daemons keep authpriv root-only. */
  facility?: Facility;
  /** Messages held while the collector is slow or away; more are dropped and counted. */
  queueSize?: number;
  /** How long close() goes on delivering what is queued. */
  closeDeadlineMs?: number;
  /** Reconnection backoff: first wait and longest wait. */
  backoffMs?: number;
  maxBackoffMs?: number;
  hostname?: string;
}

/**
 * Alerts (not events) to syslog as RFC 5424 messages (see syslog-format.ts), over a Unix
 * datagram socket, UDP, or TCP with octet counting. write() only formats and queues; one loop
 * sends in order, reconnecting with exponential backoff when the way is lost, so a dead
 * collector never blocks the pipeline: the queue is bounded and what overflows is counted.
 */
export class SyslogSink extends QueuedAlertSink<string> {
  private readonly backoff: Backoff;
  private connection: Connection | undefined;
  private abandoned = false;
  private down = false;

  constructor(private readonly options: SyslogSinkOptions) {
    super(
      `syslog ${syslogTargetName(options.target)}`,
      options.logger,
      options.queueSize ?? 10_000,
      options.closeDeadlineMs ?? 2000,
    );
    this.backoff = new Backoff(options.backoffMs ?? 100, options.maxBackoffMs ?? 30_000);
    this.start();
  }

  protected accept(alert: Alert): void {
    const header = {
      facility: this.options.facility ?? "authpriv",
      hostname: this.options.hostname ?? hostname(),
      procId: process.pid,
    };
    if (this.queue.push(formatSyslog(alert, header))) this.wakeup.notify();
  }

  protected giveUp(): void {
    this.abandoned = true;
    this.connection?.close();
  }

  private connect(): Promise<Connection> {
    const t = this.options.target;
    if (t.transport === "unix") return unixConnection(t.path);
    return t.transport === "udp" ? udpConnection(t.host, t.port) : tcpConnection(t.host, t.port);
  }

  protected async run(): Promise<void> {
    const { logger } = this;
    while (!this.abandoned && !(this.closing && this.queue.length === 0)) {
      if (this.queue.length === 0) {
        await this.wakeup.wait();
        continue;
      }
      if (!this.connection) {
        try {
          this.connection = await this.connect();
          if (this.down) logger.info({ sink: this.name }, "syslog collector reachable again");
          this.down = false;
        } catch (err) {
          const waitMs = this.backoff.next();
          if (!this.down) logger.warn({ err, sink: this.name }, `syslog collector unreachable; retrying`);
          this.down = true;
          await this.interrupt.wait(waitMs);
          continue;
        }
      }
      const [message] = this.queue.take(1);
      if (message === undefined) continue;
      this.sending = 1;
      try {
        await this.connection.send(message);
        this.written++;
        // Only a delivery resets the backoff: a collector that accepts and drops connections stays slowed down.
        this.backoff.reset();
      } catch (err) {
        if (err instanceof MessageError) {
          this.failed++;
          logger.warn({ err, sink: this.name }, "syslog message not sent");
        } else {
          this.queue.unshift(message);
          this.connection.close();
          this.connection = undefined;
          if (!this.down) logger.warn({ err, sink: this.name }, "lost the syslog collector; reconnecting");
          this.down = true;
          await this.interrupt.wait(this.backoff.next());
        }
      } finally {
        this.sending = 0;
      }
    }
    this.connection?.close();
    this.connection = undefined;
  }
}
