import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { StringDecoder } from "node:string_decoder";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { fromJson } from "../../src/events/json.js";

export const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
export const vigil = join(root, "bin/vigil");
export const progs = join(root, "test/progs/bin");

/**
 * Kernel tests need root and BPF. Outside CI they skip when that is missing; under CI=true
 * they fail, so a CI machine that lost a privilege cannot pass by skipping.
 */
export function requireKernel(t: TestContext): boolean {
  const problems: string[] = [];
  if (process.geteuid?.() !== 0) problems.push("not root");
  if (!existsSync("/sys/kernel/btf/vmlinux")) problems.push("no kernel BTF");
  if (!existsSync(join(root, "bpf/.output/process.bpf.o"))) problems.push("BPF objects not built");
  if (problems.length === 0) return true;
  if (process.env.CI) throw new Error(`kernel test cannot run under CI: ${problems.join(", ")}`);
  t.skip(problems.join(", "));
  return false;
}

export type WireEvent = Record<string, unknown> & {
  kind: string;
  time: bigint;
  process: Record<string, unknown> & { pid: number; exe: string; args: string[] };
};

export interface RunningSensor {
  proc: ChildProcess;
  output: string;
  /** Its control socket: a temp path unless args chose one, so sensors in parallel never meet. */
  socket: string;
  logs: () => Record<string, unknown>[];
  events: () => WireEvent[];
  waitFor: (match: (e: WireEvent) => boolean, what: string, timeoutMs?: number) => Promise<WireEvent>;
  stop: () => Promise<number | null>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `vigil run --output FILE` and resolves once it logs that it started. `prefix` runs it
 * through another command (which must exec it), e.g. a private mount namespace.
 */
export async function startSensor(
  args: string[] = [],
  prefix: string[] = [],
  timeoutMs = 20_000,
): Promise<RunningSensor> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-e2e-"));
  const output = join(dir, "events.jsonl");
  const chosen = args.indexOf("--control-socket");
  const socket = chosen >= 0 ? (args[chosen + 1] ?? "") : join(dir, "control.sock");
  const command = [
    ...prefix,
    vigil,
    "run",
    "--output",
    output,
    ...(chosen >= 0 ? [] : ["--control-socket", socket]),
    ...args,
  ];
  const proc = spawn(command[0] ?? vigil, command.slice(1), { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const logs = () =>
    stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  // Read on from where the last call stopped: a busy host's events file grows large, and tests
  // poll. The sensor may be mid-write: only lines that end in a newline are whole.
  const seen: WireEvent[] = [];
  const decoder = new StringDecoder("utf8");
  let offset = 0;
  let partial = "";
  const events = () => {
    if (!existsSync(output)) return [];
    const fd = openSync(output, "r");
    try {
      const size = fstatSync(fd).size;
      if (size > offset) {
        const chunk = Buffer.alloc(size - offset);
        offset += readSync(fd, chunk, 0, chunk.length, offset);
        const text = partial + decoder.write(chunk);
        const end = text.lastIndexOf("\n") + 1;
        partial = text.slice(end);
        for (const line of text.slice(0, end).split("\n")) if (line) seen.push(fromJson(line) as WireEvent);
      }
    } finally {
      closeSync(fd);
    }
    return seen.slice();
  };
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));

  const deadline = Date.now() + timeoutMs;
  while (!logs().some((l) => l.msg === "sensor started")) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`sensor did not start (exit ${proc.exitCode}):\n${stderr}`);
    }
    await sleep(50);
  }

  return {
    proc,
    output,
    socket,
    logs,
    events,
    async waitFor(match, what, waitMs = 10_000) {
      const until = Date.now() + waitMs;
      for (;;) {
        const found = events().find(match);
        if (found) return found;
        if (Date.now() > until) throw new Error(`no event: ${what} (${events().length} events seen)`);
        await sleep(50);
      }
    },
    async stop() {
      if (proc.exitCode === null) proc.kill("SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), 30_000);
      });
      const code = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      if (code === "timeout") {
        proc.kill("SIGKILL");
        throw new Error(`sensor did not stop on SIGTERM:\n${stderr}`);
      }
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

/** Runs a command to completion; resolves with its pid and exit status. */
export function run(
  file: string,
  args: string[],
  options: { cwd?: string; signal?: NodeJS.Signals; env?: NodeJS.ProcessEnv } = {},
): Promise<{ pid: number; code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, stdio: "ignore", env: options.env ?? process.env });
    child.once("error", reject);
    child.once("spawn", () => {
      if (options.signal) setTimeout(() => child.kill(options.signal), 100);
    });
    child.once("exit", (code, signal) => resolve({ pid: child.pid ?? -1, code, signal }));
  });
}

/** Writes a policy file of one rule into `dir`, in enforce mode. */
export function policyFile(dir: string, name: string, rule: Record<string, unknown>): void {
  const policy = {
    apiVersion: "vigil.dev/v1",
    kind: "Policy",
    metadata: { name },
    spec: { mode: "enforce", rules: [rule] },
  };
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(policy, null, 2));
}

/** Sends SIGHUP and resolves once the sensor logged that it put the policies in force again. */
export async function reloadPolicies(s: RunningSensor, timeoutMs = 5000): Promise<boolean> {
  const reloads = () => s.logs().filter((l) => l.msg === "policies in force" && l.reason !== "start").length;
  const before = reloads();
  s.proc.kill("SIGHUP");
  const until = Date.now() + timeoutMs;
  while (reloads() === before && Date.now() < until) await sleep(50);
  return reloads() > before;
}
