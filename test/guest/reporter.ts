import type { TestEvent } from "node:test/reporters";
import { inspect } from "node:util";

/** One finished test inside the guest, as guest.test.ts reads it back on the host. */
export interface GuestTestResult {
  /** Its name below its suites, joined by " > ". */
  name: string;
  file: string | undefined;
  ok: boolean;
  skip: string | undefined;
  todo: string | undefined;
  ms: number;
  error: string | undefined;
}

const reason = (v: string | boolean | undefined) => (v === undefined || v === false ? undefined : v === true ? "" : v);

/**
 * A node:test reporter for the tests run inside the guest: a JSON line per finished test, so
 * that the host reports each by its name. A suite has a line only when it failed for itself (a
 * hook threw), since that error belongs to none of its tests.
 */
export default async function* guestReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  const names: string[] = [];
  for await (const event of source) {
    if (event.type === "test:start") names[event.data.nesting] = event.data.name;
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { data } = event;
    const ok = event.type === "test:pass";
    const failure = event.type === "test:fail" ? event.data.details.error : undefined;
    const ownError = failure && (failure as { failureType?: string }).failureType !== "subtestsFailed";
    if (data.details.type === "suite" && !ownError) continue;
    const result: GuestTestResult = {
      name: [...names.slice(0, data.nesting), data.name].join(" > "),
      file: data.file,
      ok,
      skip: reason(data.skip),
      todo: reason(data.todo),
      ms: data.details.duration_ms,
      error: failure && inspect(failure.cause ?? failure, { depth: 4 }),
    };
    yield `${JSON.stringify(result)}\n`;
  }
}
