import { createConnection } from "node:net";
import {
  ControlError,
  DEFAULT_CONTROL_SOCKET,
  encodeRequest,
  LineReader,
  parseResponse,
} from "../sensor/control/index.js";

/**
 * Exit statuses of the commands that query a running sensor (actors, get-statistics, version):
 *
 * | status | meaning                                                                            |
 * | ------ | ---------------------------------------------------------------------------------- |
 * | 0      | the sensor answered (`version` also exits 0 when none runs, and says so)          |
 * | 1      | the sensor answered with an error (e.g. `--pid` of no live process), or a bad option |
 * | 2      | no sensor answers on the control socket: none is running, or it cannot be reached  |
 */
export const QUERY_EXIT = { ok: 0, failed: 1, noSensor: 2 } as const;

/** Longest answer the client reads; an actors list of a large host is a few MB. */
const MAX_ANSWER_BYTES = 256 << 20;

/** --socket, else VIGIL_SOCKET, else the default path; `vigil run` resolves its own the same way. */
export function socketPath(option: string | undefined): string {
  return option ?? (process.env.VIGIL_SOCKET || DEFAULT_CONTROL_SOCKET);
}

/** No sensor answered on the socket. `status` completes "sensor: ..." in `vigil version`. */
export class SensorUnreachable extends Error {
  readonly exitCode = QUERY_EXIT.noSensor;

  constructor(
    message: string,
    readonly status: string,
  ) {
    super(message);
    this.name = "SensorUnreachable";
  }
}

function unreachable(path: string, err: NodeJS.ErrnoException): SensorUnreachable {
  switch (err.code) {
    case "ENOENT":
    case "ECONNREFUSED":
      return new SensorUnreachable(`no sensor is running (no answer on ${path})`, `not running (no answer on ${path})`);
    case "EACCES":
    case "EPERM":
      return new SensorUnreachable(
        `cannot reach the sensor: permission denied on ${path} (the control socket is root-only)`,
        `unknown (permission denied on ${path}; the control socket is root-only)`,
      );
    default:
      return new SensorUnreachable(
        `cannot reach the sensor on ${path}: ${err.message}`,
        `unknown (${path}: ${err.message})`,
      );
  }
}

/**
 * Sends one request to the sensor on `path` and resolves with its result. Rejects with
 * SensorUnreachable when nothing answers, ControlError when the sensor answers with an error.
 */
export function query(
  path: string,
  method: string,
  params: Record<string, unknown> = {},
  timeoutMs = 5_000,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const socket = createConnection(path);
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      fn();
    };
    const reader = new LineReader(
      MAX_ANSWER_BYTES,
      (line) =>
        settle(() => {
          try {
            const response = parseResponse(line);
            if ("error" in response) reject(new ControlError(response.error.code, response.error.message));
            else resolve(response.result);
          } catch (err) {
            reject(err);
          }
        }),
      () => settle(() => reject(new Error(`the sensor's answer on ${path} is larger than ${MAX_ANSWER_BYTES} bytes`))),
    );
    socket.setTimeout(timeoutMs, () =>
      settle(() =>
        reject(
          new SensorUnreachable(
            `the sensor did not answer on ${path} within ${timeoutMs / 1000} s`,
            `not answering (nothing on ${path} within ${timeoutMs / 1000} s)`,
          ),
        ),
      ),
    );
    socket.once("connect", () => socket.write(encodeRequest({ id: 1, method, params })));
    socket.on("data", (chunk: Buffer) => reader.push(chunk));
    socket.once("error", (err: NodeJS.ErrnoException) => settle(() => reject(unreachable(path, err))));
    socket.once("close", () =>
      settle(() =>
        reject(
          new SensorUnreachable(
            `the sensor on ${path} closed the connection without answering`,
            `not answering (${path} closed without an answer)`,
          ),
        ),
      ),
    );
  });
}
