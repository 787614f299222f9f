import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { toJson } from "../../events/json.js";
import { readRecordedEvents } from "../../events/record.js";
import { sampleEvent } from "../../events/samples.js";
import { eventToJson } from "../../events/serialize.js";
import { installRoot } from "../../paths.js";
import { type CompiledPolicy, compilePolicyFile } from "./compile.js";
import { loadPolicyPaths } from "./directory.js";
import { replayEvents, runExamples } from "./replay.js";
import { formatPolicyError } from "./source.js";

function text(rules: unknown[]): string {
  return JSON.stringify(
    { apiVersion: "vigil.dev/v1", kind: "Policy", metadata: { name: "ex" }, spec: { rules } },
    null,
    2,
  );
}

function compile(...rules: unknown[]): CompiledPolicy {
  const result = compilePolicyFile("ex.json", text(rules));
  if (!result.policy) throw new Error(result.errors.map(formatPolicyError).join("\n"));
  return result.policy;
}

const errors = (...rules: unknown[]) => compilePolicyFile("ex.json", text(rules)).errors.map(formatPolicyError);

const tmpExec = (examples: unknown) => ({
  id: "tmp-exec",
  on: "process.exec",
  when: "process.exe.startsWith('/tmp/')",
  examples,
});

const sequence = (examples: unknown) => ({
  id: "chmod-then-run",
  sequence: {
    within: "5s",
    by: "process",
    steps: [
      { on: ["file.chmod", "file.open"], when: "file.path.startsWith('/tmp/')" },
      { on: "process.exec", when: "process.exe.startsWith('/tmp/')" },
    ],
  },
  examples,
});

describe("examples in rules", () => {
  test("partial events are completed from sample defaults: kind from the rule, integers as bigint", () => {
    const policy = compile(tmpExec({ match: [{ process: { exe: "/tmp/x", start_time: 7 } }], ignore: [{}] }));
    const [match] = policy.rules[0]?.examples?.match ?? [];
    assert.deepEqual(match?.[0], sampleEvent("process.exec", { process: { exe: "/tmp/x", start_time: 7n } }));
    assert.deepEqual(policy.rules[0]?.examples?.ignore, [[sampleEvent("process.exec")]]);
    assert.deepEqual(runExamples([policy]), { rules: 1, examples: 2, failures: [] });
  });

  test("each failing example is reported: rule, example, expected and got", () => {
    const policy = compile(
      tmpExec({ match: [{ process: { exe: "/usr/bin/x" } }], ignore: [{ process: { exe: "/tmp/y" } }] }),
      sequence({
        match: [[{ kind: "file.chmod", file: { path: "/tmp/x" } }, { process: { exe: "/tmp/x" } }]],
        ignore: [[{ kind: "file.open", file: { path: "/tmp/x" } }, { process: { exe: "/tmp/x" } }]],
      }),
    );
    assert.deepEqual(runExamples([policy]).failures, [
      {
        file: "ex.json",
        policy: "ex",
        rule: "tmp-exec",
        example: "examples.match[0]",
        expected: "an alert",
        got: "none",
      },
      {
        file: "ex.json",
        policy: "ex",
        rule: "tmp-exec",
        example: "examples.ignore[0]",
        expected: "no alert",
        got: "1 alert",
      },
      {
        file: "ex.json",
        policy: "ex",
        rule: "chmod-then-run",
        example: "examples.ignore[0]",
        expected: "no alert",
        got: "1 alert",
      },
    ]);
  });

  test("examples are validated against their kind, with positions", () => {
    assert.deepEqual(
      errors(
        tmpExec({
          match: [{ process: { exe: "/tmp/x", pdi: 1 } }, [{}]],
          ignore: [{ kind: "process.exce" }, { process: { start_time: "soon" } }],
        }),
      ),
      [
        "ex.json:18:17 tmp-exec: unknown field 'examples.match[0].process.pdi'; did you mean 'pid'?",
        "ex.json:21:13 tmp-exec: examples.match[1]: an example of a rule on single events is one event, not a list",
        "ex.json:27:23 tmp-exec: examples.ignore[0].kind: unknown event kind 'process.exce'; did you mean 'process.exec'?",
        'ex.json:31:31 tmp-exec: examples.ignore[1].process.start_time: expected a bigint, got string "soon"',
      ],
    );
    // A sequence's example is a list; an event's kind may be left out where its step has one.
    assert.deepEqual(errors(sequence({ match: [[{ file: { path: "/tmp/x" } }, {}, {}]], ignore: [{}] })), [
      "ex.json:31:15 chmod-then-run: examples.match[0][0]: give its 'kind': the rule is on several kinds",
      "ex.json:37:15 chmod-then-run: examples.match[0][2]: give its 'kind': the sequence has no step here",
      "ex.json:41:13 chmod-then-run: examples.ignore[0]: an example of a sequence rule is a list of events, in order",
    ]);
  });
});

describe("replaying recorded events", () => {
  test("bad lines are reported with their numbers and skipped; alerts are skipped; rules say which lines fired", () => {
    const run = sampleEvent("process.exec", { time: 5n, process: { pid: 9, exe: "/tmp/x" } });
    const lines = [
      eventToJson(sampleEvent("process.exec", { process: { exe: "/usr/bin/ls" } })),
      "{ not json",
      '{"kind":"alert","time":1}',
      '{"kind":"process.exec","time":1}',
      "",
      eventToJson(run),
    ];
    const read = readRecordedEvents(lines.join("\n"));
    assert.deepEqual(
      read.events.map((e) => e.line),
      [1, 6],
    );
    assert.equal(read.alerts, 1);
    assert.deepEqual(
      read.bad.map((b) => [b.line, b.message.split(":")[0]]),
      [
        [2, "not JSON"],
        [4, "not an event"],
      ],
    );
    assert.deepEqual(read.events[1]?.event, run);
    assert.deepEqual(replayEvents([compile(tmpExec(undefined))], read.events), [
      { policy: "ex", rule: "tmp-exec", tested: 2, matched: 1, errors: 0, matches: [[6]] },
    ]);
  });
});

test("events recorded before events carried containers read as on the host", () => {
  const event = sampleEvent("process.exec", { process: { exe: "/usr/bin/ls" } });
  const { container: _c, k8s: _k, ...old } = event;
  const read = readRecordedEvents(`${toJson(old)}\n`);
  assert.deepEqual(read.bad, []);
  assert.deepEqual(read.events[0]?.event, event);
});

describe("the stock policies", () => {
  const dir = join(installRoot, "policies");
  const files = readdirSync(dir).filter((f) => /\.(json|ya?ml)$/.test(f));

  test("the directory has policies, and they load without errors", () => {
    assert.ok(files.length > 0, "policies/ is empty");
    assert.deepEqual(loadPolicyPaths([dir]).errors.map(formatPolicyError), []);
  });

  for (const file of files) {
    test(`${file}: every rule's examples pass`, () => {
      const { policies } = loadPolicyPaths([join(dir, file)]);
      const report = runExamples(policies);
      assert.ok(report.examples > 0, `${file} has no examples`);
      assert.deepEqual(report.failures, []);
    });
  }
});
