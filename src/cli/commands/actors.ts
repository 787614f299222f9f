import { type Command, InvalidArgumentError } from "commander";
import { toJson } from "../../events/json.js";
import type { ActorView } from "../../sensor/control/index.js";
import { query, socketPath } from "../client.js";
import { table } from "../table.js";

/**
 * Text from a process, made safe for a terminal: argv and paths are chosen by whoever started
 * the process, and an escape sequence in them must not reach the reader's terminal.
 */
export function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** An argument as a shell would need it: bare when plain, else single-quoted. */
function shellWord(arg: string): string {
  if (/^[\w@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", "'\\''")}'`;
}

/**
 * Depth-first order for drawing, children under their parent by pid; a process whose parent is
 * not in the list starts a tree of its own.
 */
export function forest<T extends { pid: number; ppid: number }>(actors: readonly T[]): { actor: T; depth: number }[] {
  const byPid = new Map(actors.map((a) => [a.pid, a]));
  const children = new Map<number, T[]>();
  const roots: T[] = [];
  for (const a of actors) {
    if (a.ppid !== a.pid && byPid.has(a.ppid)) {
      const list = children.get(a.ppid);
      if (list) list.push(a);
      else children.set(a.ppid, [a]);
    } else {
      roots.push(a);
    }
  }
  const out: { actor: T; depth: number }[] = [];
  const seen = new Set<number>();
  const visit = (start: T) => {
    const stack: { actor: T; depth: number }[] = [{ actor: start, depth: 0 }];
    while (stack.length > 0) {
      const next = stack.pop() as { actor: T; depth: number };
      if (seen.has(next.actor.pid)) continue;
      seen.add(next.actor.pid);
      out.push(next);
      const kids = [...(children.get(next.actor.pid) ?? [])].sort((x, y) => y.pid - x.pid);
      for (const kid of kids) stack.push({ actor: kid, depth: next.depth + 1 });
    }
  };
  for (const root of [...roots].sort((x, y) => x.pid - y.pid)) visit(root);
  // Parent loops have no root; show them rather than lose them.
  for (const a of actors) if (!seen.has(a.pid)) visit(a);
  return out;
}

/** Longest ARGS cell without --wide; `--json` always has every argument. */
const ARGS_WIDTH = 120;

export function formatActors(actors: readonly ActorView[], wide = false): string {
  const rows = forest(actors).map(({ actor: a, depth }) => {
    const branch = depth === 0 ? "" : `${"   ".repeat(depth - 1)} \\_ `;
    // A kernel thread has neither executable nor arguments: its name in brackets, as ps shows it.
    // An executable that could not be read (/proc/<pid>/exe refused) is "?".
    const exe = a.exe !== "" ? a.exe : a.args.length === 0 ? `[${a.comm}]` : "?";
    let args = a.args.map(shellWord).join(" ") + (a.argsTruncated ? " …" : "");
    if (!wide && args.length > ARGS_WIDTH) args = `${args.slice(0, ARGS_WIDTH - 1)}…`;
    return [
      String(a.pid),
      String(a.ppid),
      String(a.uid),
      a.user ?? "",
      String(a.cgroupId),
      a.container?.slice(0, 12) ?? "",
      a.startedAt,
      printable(branch + exe),
      printable(args),
    ];
  });
  return table(["PID", "PPID", "UID", "USER", "CGROUP", "CONTAINER", "STARTED", "EXE", "ARGS"], rows);
}

function positivePid(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n <= 0) {
    throw new InvalidArgumentError("a pid is a positive integer");
  }
  return n;
}

export function registerActors(program: Command): void {
  program
    .command("actors")
    .description("print the live process tree as the running sensor knows it")
    .option("--json", "print a flat JSON list (each process with its ppid)")
    .option("--pid <pid>", "only this process and its descendants", positivePid)
    .option("--wide", `print every argument (the table cuts them at ${ARGS_WIDTH} characters)`)
    .option("--socket <path>", "the sensor's control socket (default: $VIGIL_SOCKET or /run/vigil/vigil.sock)")
    .action(async (opts: { json?: boolean; pid?: number; wide?: boolean; socket?: string }) => {
      const params = opts.pid === undefined ? {} : { pid: opts.pid };
      const actors = (await query(socketPath(opts.socket), "actors", params)) as ActorView[];
      process.stdout.write(opts.json ? `${toJson(actors)}\n` : formatActors(actors, opts.wide));
    });
}
