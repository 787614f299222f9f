import { pino } from "pino";
import type { Alert } from "../../events/alert.js";
import { sampleEvent } from "../../events/samples.js";
import type { Logger } from "../../log.js";

/** An alert as the policy engine raises it, for the sinks' tests. */
export function sampleAlert(n = 1, rule: Partial<Alert["rule"]> = {}): Alert {
  return {
    kind: "alert",
    time: 1_764_000_000_123_456_789n + BigInt(n),
    rule: { id: "read-shadow", policy: "sensitive-files", severity: "high", tags: ["attack.T1003.008"], ...rule },
    message: `/usr/bin/cat opened /etc/shadow (${n})`,
    action: "deny",
    outcome: "would_deny",
    container: null,
    k8s: null,
    events: [
      sampleEvent("file.open", {
        time: 1_764_000_000_000_000_000n,
        process: { pid: 4243, exe: "/usr/bin/cat", args: ["cat", "/etc/shadow"] },
        file: { path: "/etc/shadow" },
      }),
    ],
  };
}

/** A logger whose lines the test can read. */
export function capturedLogger(): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const text: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => void text.push(line) });
  return { logger, lines: () => text.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once check() holds; throws after ms. */
export async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
