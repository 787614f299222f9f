import { type Logger, pino } from "pino";

export type { Logger } from "pino";

/** JSON lines on stderr, so stdout stays free for events. */
export function createLogger(level = process.env.VIGIL_LOG_LEVEL ?? "info"): Logger {
  return pino(
    { level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ fd: 2, sync: true }),
  );
}
