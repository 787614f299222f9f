import { fromJson, toJson } from "../../events/json.js";

/**
 * The control protocol: newline-delimited JSON over a Unix socket. Each line a client sends is
 * one request, answered by exactly one line, in order:
 *
 *   → {"id":1,"method":"statistics","params":{}}
 *   ← {"id":1,"result":{...}}
 *   ← {"id":1,"error":{"code":"VIGIL_ERR_UNKNOWN_METHOD","message":"..."}}
 *
 * 64-bit values travel as exact JSON integers (toJson/fromJson), on both sides.
 */

export const DEFAULT_CONTROL_SOCKET = "/run/vigil/vigil.sock";

/** Longest request line; a longer one is answered with an error and skipped. */
export const MAX_REQUEST_BYTES = 64 * 1024;

export type RequestId = number | string | null;

export interface ControlRequest {
  id: RequestId;
  method: string;
  params: Record<string, unknown>;
}

export interface ControlFailure {
  code: ControlErrorCode;
  message: string;
}

export type ControlResponse = { id: RequestId; result: unknown } | { id: RequestId; error: ControlFailure };

/** Every error the control socket answers with. */
export const CONTROL_ERRORS = {
  /** The line is not JSON. */
  malformed: "VIGIL_ERR_MALFORMED_REQUEST",
  /** JSON, but not a request object (id, method, params). */
  invalid: "VIGIL_ERR_INVALID_REQUEST",
  /** The line is longer than MAX_REQUEST_BYTES. */
  tooLarge: "VIGIL_ERR_REQUEST_TOO_LARGE",
  unknownMethod: "VIGIL_ERR_UNKNOWN_METHOD",
  invalidParams: "VIGIL_ERR_INVALID_PARAMS",
  /** The request names something the sensor does not know (a pid that is not live). */
  notFound: "VIGIL_ERR_NOT_FOUND",
  /** The sensor failed to answer; the message says why. */
  internal: "VIGIL_ERR_INTERNAL",
} as const;

export type ControlErrorCode = (typeof CONTROL_ERRORS)[keyof typeof CONTROL_ERRORS];

/**
 * An error answer, raised by a method or by the server, carried to the client as it is.
 * `requestId` is the id of the request it answers, when that could be read.
 */
export class ControlError extends Error {
  constructor(
    readonly code: ControlErrorCode,
    message: string,
    readonly requestId: RequestId = null,
  ) {
    super(message);
    this.name = "ControlError";
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Reads one request line; throws ControlError (with the id when it could be read). */
export function parseRequest(line: string): ControlRequest {
  let value: unknown;
  try {
    value = fromJson(line);
  } catch (err) {
    throw new ControlError(CONTROL_ERRORS.malformed, `request is not valid JSON: ${(err as Error).message}`);
  }
  if (!isRecord(value)) throw new ControlError(CONTROL_ERRORS.invalid, "request must be a JSON object");
  const id = value.id ?? null;
  if (id !== null && typeof id !== "number" && typeof id !== "string") {
    throw new ControlError(CONTROL_ERRORS.invalid, "request id must be a number or a string");
  }
  if (typeof value.method !== "string" || value.method === "") {
    throw new ControlError(CONTROL_ERRORS.invalid, 'request has no "method" string', id);
  }
  const params = value.params ?? {};
  if (!isRecord(params)) {
    throw new ControlError(CONTROL_ERRORS.invalid, '"params" must be a JSON object', id);
  }
  return { id, method: value.method, params };
}

export function encodeRequest(request: ControlRequest): string {
  return `${toJson(request)}\n`;
}

export function encodeResponse(response: ControlResponse): string {
  return `${toJson(response)}\n`;
}

/** Reads one response line; throws when it is not one. */
export function parseResponse(line: string): ControlResponse {
  const value = fromJson(line);
  if (!isRecord(value) || !("id" in value) || !("result" in value || isRecord(value.error))) {
    throw new Error("the sensor's answer is not a control response");
  }
  return value as ControlResponse;
}

/**
 * Splits a byte stream into lines of at most `maxBytes`, without holding more than that. A line
 * over the bound is reported once (onTooLong) and its bytes are dropped up to its newline, so the
 * next line is read normally.
 */
export class LineReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private skipping = false;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine: (line: string) => void,
    private readonly onTooLong: () => void,
  ) {}

  push(chunk: Buffer): void {
    let from = 0;
    while (from < chunk.length) {
      const nl = chunk.indexOf(0x0a, from);
      const end = nl < 0 ? chunk.length : nl;
      if (!this.skipping) {
        this.pendingBytes += end - from;
        if (this.pendingBytes > this.maxBytes) {
          this.pending = [];
          this.pendingBytes = 0;
          this.skipping = true;
          this.onTooLong();
        } else {
          this.pending.push(chunk.subarray(from, end));
        }
      }
      if (nl < 0) return;
      if (this.skipping) {
        this.skipping = false;
      } else {
        const line = Buffer.concat(this.pending).toString("utf8");
        this.pending = [];
        this.pendingBytes = 0;
        this.onLine(line);
      }
      from = nl + 1;
    }
  }
}
