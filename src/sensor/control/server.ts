import { chmodSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { dirname } from "node:path";
import type { Logger } from "../../log.js";
import type { ActorQuery, ControlTarget } from "./answers.js";
import {
  CONTROL_ERRORS,
  ControlError,
  type ControlResponse,
  encodeResponse,
  LineReader,
  MAX_REQUEST_BYTES,
  parseRequest,
  type RequestId,
} from "./protocol.js";

export interface ControlServerOptions {
  path: string;
  logger?: Logger;
  maxRequestBytes?: number;
  /** A connection that sends nothing for this long is closed. */
  idleMs?: number;
  maxConnections?: number;
}

type Method = (params: Record<string, unknown>) => unknown;

function expectParams(method: string, params: Record<string, unknown>, allowed: string[]): void {
  const unknown = Object.keys(params).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    const takes = allowed.length > 0 ? `takes only ${allowed.join(", ")}` : "takes no parameters";
    throw new ControlError(
      CONTROL_ERRORS.invalidParams,
      `${method} ${takes}; got ${unknown.map((k) => JSON.stringify(k)).join(", ")}`,
    );
  }
}

function actorQuery(params: Record<string, unknown>): ActorQuery {
  expectParams("actors", params, ["pid"]);
  if (params.pid === undefined) return {};
  if (!Number.isSafeInteger(params.pid) || (params.pid as number) <= 0) {
    throw new ControlError(CONTROL_ERRORS.invalidParams, "actors: pid must be a positive integer");
  }
  return { pid: params.pid as number };
}

/** A method name as it may appear in a message: quoted, and short. */
const quoted = (name: string) => JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);

/**
 * The control socket of a running sensor: a root-only Unix socket (mode 0600, in a 0700
 * directory when it creates one). A bad request gets an error answer and never reaches the
 * pipeline's state; a client that vanishes or stalls costs only its own connection.
 */
export class ControlServer {
  private server: Server | undefined;
  private readonly connections = new Set<Socket>();
  private readonly methods: ReadonlyMap<string, Method>;
  private inode: bigint | undefined;
  private closing = false;
  readonly path: string;

  constructor(
    target: ControlTarget,
    private readonly options: ControlServerOptions,
  ) {
    this.path = options.path;
    this.methods = new Map<string, Method>([
      [
        "version",
        (params) => {
          expectParams("version", params, []);
          return target.version();
        },
      ],
      [
        "statistics",
        (params) => {
          expectParams("statistics", params, []);
          return target.statistics();
        },
      ],
      ["actors", (params) => target.actors(actorQuery(params))],
      [
        "enforcement",
        (params) => {
          expectParams("enforcement", params, []);
          return target.enforcement();
        },
      ],
      [
        "containers",
        (params) => {
          expectParams("containers", params, []);
          return target.containers();
        },
      ],
      [
        "packages",
        (params) => {
          expectParams("packages", params, []);
          return target.packages();
        },
      ],
      [
        "stop",
        (params) => {
          expectParams("stop", params, []);
          return target.stop();
        },
      ],
    ]);
  }

  /**
   * Binds the socket. A socket file left by a sensor that died is replaced; one that a live
   * sensor answers on is not, and listen() fails saying so.
   */
  async listen(): Promise<void> {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    try {
      this.server = await this.bind();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
      await this.removeStale();
      this.server = await this.bind();
    }
    // Bound under umask 0177 already; chmod again so a umask-ignoring filesystem cannot widen it.
    chmodSync(this.path, 0o600);
    this.inode = lstatSync(this.path, { bigint: true }).ino;
    this.server.on("error", (err) => this.options.logger?.error({ err }, "control socket error"));
    this.options.logger?.info({ path: this.path }, "control socket listening");
  }

  /** Stops answering, drops open connections and removes the socket file. */
  async close(): Promise<void> {
    this.closing = true;
    for (const socket of this.connections) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // libuv unlinks the path when the server closes; make sure, but never remove another's socket.
    try {
      if (lstatSync(this.path, { bigint: true }).ino === this.inode) unlinkSync(this.path);
    } catch {
      // Already gone.
    }
  }

  private bind(): Promise<Server> {
    return new Promise((resolve, reject) => {
      const server = createServer((socket) => this.accept(socket));
      server.maxConnections = this.options.maxConnections ?? 64;
      server.once("error", reject);
      // bind(2) happens inside listen(); the umask makes the socket 0600 from its first moment.
      const umask = process.umask(0o177);
      try {
        server.listen(this.path, () => {
          server.off("error", reject);
          resolve(server);
        });
      } finally {
        process.umask(umask);
      }
    });
  }

  private async removeStale(): Promise<void> {
    const st = lstatSync(this.path);
    if (!st.isSocket()) {
      throw new Error(`${this.path} exists and is not a socket; remove it or choose another control socket path`);
    }
    const live = await new Promise<boolean>((resolve) => {
      const probe = createConnection(this.path);
      probe.once("connect", () => {
        probe.destroy();
        resolve(true);
      });
      probe.once("error", (err: NodeJS.ErrnoException) =>
        resolve(err.code !== "ECONNREFUSED" && err.code !== "ENOENT"),
      );
    });
    if (live) throw new Error(`another sensor is running on ${this.path}`);
    try {
      unlinkSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    this.options.logger?.warn({ path: this.path }, "replaced the control socket of a sensor that is gone");
  }

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.connections.add(socket);
    socket.once("close", () => this.connections.delete(socket));
    // A client that goes away while being answered is its own business.
    socket.on("error", () => undefined);
    socket.setTimeout(this.options.idleMs ?? 30_000, () => socket.destroy());
    const max = this.options.maxRequestBytes ?? MAX_REQUEST_BYTES;
    const reader = new LineReader(
      max,
      (line) => {
        if (line.trim() !== "") this.send(socket, this.answer(line));
      },
      () =>
        this.send(socket, {
          id: null,
          error: { code: CONTROL_ERRORS.tooLarge, message: `request longer than ${max} bytes; skipped` },
        }),
    );
    socket.on("data", (chunk: Buffer) => reader.push(chunk));
  }

  private answer(line: string): ControlResponse {
    let id: RequestId = null;
    let name = "";
    try {
      const request = parseRequest(line);
      id = request.id;
      name = request.method;
      const method = this.methods.get(name);
      if (!method) {
        throw new ControlError(
          CONTROL_ERRORS.unknownMethod,
          `unknown method ${quoted(name)}; known methods: ${[...this.methods.keys()].join(", ")}`,
        );
      }
      return { id, result: method(request.params) };
    } catch (err) {
      if (err instanceof ControlError) {
        return { id: err.requestId ?? id, error: { code: err.code, message: err.message } };
      }
      this.options.logger?.error({ err, method: name }, "control request failed");
      return { id, error: { code: CONTROL_ERRORS.internal, message: `${name} failed: ${(err as Error).message}` } };
    }
  }

  private send(socket: Socket, response: ControlResponse): void {
    let text: string;
    try {
      text = encodeResponse(response);
    } catch (err) {
      text = encodeResponse({
        id: response.id,
        error: { code: CONTROL_ERRORS.internal, message: `answer could not be encoded: ${(err as Error).message}` },
      });
    }
    if (!socket.destroyed) socket.write(text);
  }
}
