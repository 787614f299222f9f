import type { Outcome } from "../../events/alert.js";
import { enums } from "../kernel/layout.generated.js";
import type { EnforcementPath } from "../kernel/preflight.js";
import { addressBytes, mappedBits, parseCidr } from "../policy/cidr.js";
import type { CompiledRule } from "../policy/compile.js";
import { type Atom, atomKey } from "../policy/disjuncts.js";
import type { Mode } from "../policy/format.js";

/**
 * Which path enforces each rule on this host, and the kernel's tables for the rules decided in
 * the kernel: each disjunct of a rule a slot of its hook, each distinct test an atom of the hook,
 * and the map entries that make each atom hold. Pure: the host's facts come in as arguments
 * (the paths preflight found, and stat() for executables), so every shape can be tested.
 */

/** How one rule is enforced on events of one kind, strongest first. */
export type RulePath =
  | EnforcementPath
  /** The process is killed once the event reaches the agent: the operation has happened. */
  | "kill_after"
  /** Audit mode: the alert says what would have been done. */
  | "audit";

export type HookName = "exec" | "connect" | "bind" | "open" | "unlink" | "rename" | "chmod" | "module";

const HOOK = enums.vg_enforce_hook;
export const HOOK_INDEX: Record<HookName, number> = {
  exec: HOOK.VG_HOOK_EXEC,
  connect: HOOK.VG_HOOK_CONNECT,
  bind: HOOK.VG_HOOK_BIND,
  open: HOOK.VG_HOOK_OPEN,
  unlink: HOOK.VG_HOOK_UNLINK,
  rename: HOOK.VG_HOOK_RENAME,
  chmod: HOOK.VG_HOOK_CHMOD,
  module: HOOK.VG_HOOK_MODULE,
};

/** The LSM hook of each kind that only BPF-LSM stops. */
const LSM_ONLY: Record<string, HookName> = {
  "file.unlink": "unlink",
  "file.rename": "rename",
  "file.chmod": "chmod",
  "kernel.module_load": "module",
};
export const HOOK_COUNT = HOOK.VG_HOOK_MAX;
export const SLOTS = enums.vg_enforce_limit.VG_ENFORCE_SLOTS;
export const ATOMS = enums.vg_enforce_limit.VG_ENFORCE_ATOMS;

/** One rule on one kind: where it is enforced, and why there. */
export interface RuleEnforcement {
  policy: string;
  rule: string;
  kind: string;
  action: "deny" | "kill";
  mode: Mode;
  path: RulePath;
  /** The kernel hook deciding it, for rules decided in the kernel. */
  hook?: HookName;
  /** Why this path and not a stronger one, or what the path cannot do. */
  detail: string;
}

/** A rule's disjunct in a hook's table. */
export interface Slot {
  rule: CompiledRule;
  kind: string;
  /** Atoms (bit numbers) that must hold, and that must not. */
  require: bigint;
  forbid: bigint;
  kill: boolean;
}

export interface HookTable {
  hook: HookName;
  slots: Slot[];
  atoms: Atom[];
}

export interface EnforcementPlan {
  rules: RuleEnforcement[];
  /** The kernel's tables (BPF-LSM, the exec tracepoint, the cgroup socket programs). */
  hooks: HookTable[];
  /** The tables the fanotify thread decides from (exec and open), on the files they mark. */
  fanotify: HookTable[];
}

export interface PlanOptions {
  /** The mode every policy runs in, when the sensor was told one. */
  mode?: Mode;
  /** The paths this host offers (preflight), and in use. */
  paths: readonly EnforcementPath[];
}

/**
 * Each deny and kill rule's route: the hook that can decide it here, or none. Without a rule,
 * the route of a rule naming its files by exact path.
 */
function route(kind: string, action: "deny" | "kill", paths: ReadonlySet<EnforcementPath>, rule?: CompiledRule) {
  switch (kind) {
    case "process.exec":
      if (paths.has("lsm")) return { hook: "exec" as const, path: "lsm" as const };
      // An EPERM from execve, and opens of the binary by ld.so refused too, is stronger than a
      // kill at exec, which ld.so gets around; but fanotify only sees the files it marks.
      if (paths.has("fanotify") && action === "deny" && (!rule || fanotifyDecides(rule, "process.exe")))
        return { hook: "exec" as const, path: "fanotify" as const };
      if (paths.has("kill_at_exec")) return { hook: "exec" as const, path: "kill_at_exec" as const };
      return { why: "neither BPF-LSM nor bpf_send_signal at exec is available here" };
    case "net.connect":
    case "net.bind": {
      const hook = kind === "net.connect" ? ("connect" as const) : ("bind" as const);
      // A kill rule is denied too: the call fails, then the agent kills the caller.
      if (paths.has("cgroup_sock")) return { hook, path: "cgroup_sock" as const };
      if (paths.has("lsm")) return { hook, path: "lsm" as const };
      return { why: "neither cgroup v2 socket programs nor BPF-LSM are available here" };
    }
    case "file.open":
      if (paths.has("lsm")) return { hook: "open" as const, path: "lsm" as const };
      if (paths.has("fanotify") && action === "deny") {
        if (!rule || fanotifyDecides(rule, "file.path")) return { hook: "open" as const, path: "fanotify" as const };
        return {
          why: "fanotify marks files by their identity, and this condition does not name every file it denies by exact path (file.path == or in)",
        };
      }
      return {
        why: "no program here stops file.open before it happens (it needs BPF-LSM or fanotify permission events)",
      };
    default: {
      const hook = LSM_ONLY[kind];
      if (hook && paths.has("lsm")) return { hook, path: "lsm" as const };
      return {
        why:
          action === "kill" && !hook
            ? `the kernel does not decide kill rules on ${kind}`
            : `no program here stops ${kind} before it happens (it needs BPF-LSM)`,
      };
    }
  }
}

/**
 * Whether fanotify can decide a rule: every alternative of its condition requires `field` to be
 * one of some exact paths, whose files are then the ones marked; the rest of the condition is
 * decided by the fanotify thread on the events of those files.
 */
export function fanotifyDecides(rule: CompiledRule | undefined, field: string): boolean {
  const disjuncts = rule?.disjuncts;
  if (!disjuncts || disjuncts.length === 0) return false;
  return disjuncts.every((d) =>
    d.some(({ atom, negated }) => !negated && atom.field === field && atom.test === "exact"),
  );
}

/** The kinds a deny rule can name (policy/enforceable.ts DENIABLE), with the path each takes here. */
export function routesHere(paths: readonly EnforcementPath[]): { kind: string; path: RulePath }[] {
  const set = new Set(paths);
  return [
    "process.exec",
    "net.connect",
    "net.bind",
    "file.open",
    "file.unlink",
    "file.rename",
    "file.chmod",
    "kernel.module_load",
  ].map((kind) => {
    const way = route(kind, "deny", set);
    return { kind, path: "path" in way && way.path ? way.path : "kill_after" };
  });
}

const PATH_DETAIL: Record<string, string> = {
  lsm: "BPF-LSM hook: the call fails with EPERM",
  fanotify:
    "fanotify permission event on the files the rule names, decided in the sensor's native thread: the call fails with EPERM",
  kill_at_exec: "SIGKILL at exec, matched by device and inode and by path: the program never runs",
  cgroup_sock: "cgroup v2 socket program on the root cgroup: the call fails with EPERM, no packet leaves",
};

/** Builds the plan; rules keep their order, so a table that is full takes the first rules. */
export function planEnforcement(
  rules: readonly CompiledRule[],
  modes: ReadonlyMap<CompiledRule, Mode>,
  options: PlanOptions,
): EnforcementPlan {
  const paths = new Set(options.paths);
  const out: RuleEnforcement[] = [];
  const tables = new Map<HookName, HookTable>();
  const fanotify = new Map<HookName, HookTable>();
  for (const rule of rules) {
    if (!rule.enabled || (rule.action !== "deny" && rule.action !== "kill")) continue;
    const action = rule.action;
    const mode = options.mode ?? modes.get(rule) ?? "audit";
    for (const kind of rule.kinds) {
      const base = { policy: rule.policy, rule: rule.id, kind, action, mode };
      if (mode === "audit") {
        out.push({
          ...base,
          path: "audit",
          detail: `audit mode: alerts say what would have been done (would_${action})`,
        });
        continue;
      }
      const way = route(kind, action, paths, rule);
      if (!("hook" in way) || !way.hook) {
        out.push({ ...base, path: "kill_after", detail: `${way.why}: the process is killed after the call` });
        continue;
      }
      if (!rule.disjuncts) {
        out.push({
          ...base,
          path: "kill_after",
          detail: `the kernel cannot decide the condition (${rule.enforceable.why ?? "outside the kernel subset"}): the process is killed after the call`,
        });
        continue;
      }
      const into = way.path === "fanotify" ? fanotify : tables;
      const table = into.get(way.hook) ?? { hook: way.hook, slots: [], atoms: [] };
      const full = place(table, rule, kind, action === "kill");
      if (full) {
        out.push({ ...base, path: "kill_after", detail: `${full}: the process is killed after the call` });
        continue;
      }
      into.set(way.hook, table);
      const killNote = action === "kill" && way.hook !== "exec" ? "; then the agent kills the caller" : "";
      out.push({ ...base, path: way.path, hook: way.hook, detail: `${PATH_DETAIL[way.path]}${killNote}` });
    }
  }
  return { rules: out, hooks: [...tables.values()], fanotify: [...fanotify.values()] };
}

/** Puts a rule's disjuncts in a hook's table; returns why not when they do not fit, leaving it unchanged. */
function place(table: HookTable, rule: CompiledRule, kind: string, kill: boolean): string | undefined {
  const disjuncts = rule.disjuncts ?? [];
  if (table.slots.length + disjuncts.length > SLOTS) {
    return `the ${table.hook} hook's ${SLOTS} slots are taken (${table.slots.length} by earlier rules, ${disjuncts.length} needed)`;
  }
  const atoms = [...table.atoms];
  const index = new Map(atoms.map((a, i) => [atomKey(a), i]));
  const slots: Slot[] = [];
  for (const d of disjuncts) {
    let require = 0n;
    let forbid = 0n;
    for (const { atom, negated } of d) {
      const key = atomKey(atom);
      let i = index.get(key);
      if (i === undefined) {
        i = atoms.length;
        atoms.push(atom);
        index.set(key, i);
      }
      if (negated) forbid |= 1n << BigInt(i);
      else require |= 1n << BigInt(i);
    }
    slots.push({ rule, kind, require, forbid, kill });
  }
  if (atoms.length > ATOMS) {
    return `the ${table.hook} hook's ${ATOMS} distinct tests are taken (${atoms.length} needed)`;
  }
  table.atoms = atoms;
  table.slots.push(...slots);
  return undefined;
}

/** The outcome the engine gives a rule's alerts on a kind; undefined when the kernel raises them. */
export function outcomeOf(
  enforcement: RuleEnforcement | undefined,
  action: "alert" | "deny" | "kill",
): Outcome | undefined {
  if (action === "alert") return "alerted";
  if (!enforcement || enforcement.path === "audit") return action === "deny" ? "would_deny" : "would_kill";
  if (enforcement.path === "kill_after") return "killed_after";
  return undefined;
}

// ---- Map entries ----

const T = enums.vg_enforce_test;

/** One string entry: its test, its bytes (NUL-terminated when exact) and the atoms it makes hold. */
export interface StringEntry {
  hook: number;
  test: number;
  bytes: Buffer;
  atoms: bigint;
}
export interface ValueEntry {
  hook: number;
  test: number;
  value: number;
  atoms: bigint;
}
export interface InodeEntry {
  hook: number;
  test: number;
  dev: number;
  ino: bigint;
  atoms: bigint;
  /** The path it was found at, for the report. */
  path: string;
}
export interface AddressEntry {
  hook: number;
  addr: Buffer;
  /** In the 128-bit space (IPv4 as mapped). */
  bits: number;
  atoms: bigint;
}

export interface MapEntries {
  strings: StringEntry[];
  values: ValueEntry[];
  inodes: InodeEntry[];
  addresses: AddressEntry[];
  /** Per hook: the tests its atoms use (1 << test). */
  tests: Map<number, number>;
}

/** Identity of a file: device in the kernel's encoding, and inode. */
export interface FileIdentity {
  dev: number;
  ino: bigint;
}

const STRING_TESTS: Record<string, { exact: number; prefix: number; suffix: number; inode?: number }> = {
  "process.exe": {
    exact: T.VG_TEST_EXE,
    prefix: T.VG_TEST_EXE,
    suffix: T.VG_TEST_EXE_SUFFIX,
    inode: T.VG_TEST_EXE_INODE,
  },
  "process.comm": { exact: T.VG_TEST_COMM, prefix: T.VG_TEST_COMM, suffix: T.VG_TEST_COMM_SUFFIX },
  "file.path": {
    exact: T.VG_TEST_PATH,
    prefix: T.VG_TEST_PATH,
    suffix: T.VG_TEST_PATH_SUFFIX,
    inode: T.VG_TEST_PATH_INODE,
  },
  "file.old_path": {
    exact: T.VG_TEST_PATH,
    prefix: T.VG_TEST_PATH,
    suffix: T.VG_TEST_PATH_SUFFIX,
    inode: T.VG_TEST_PATH_INODE,
  },
  "file.new_path": {
    exact: T.VG_TEST_NEW_PATH,
    prefix: T.VG_TEST_NEW_PATH,
    suffix: T.VG_TEST_NEW_PATH_SUFFIX,
    inode: T.VG_TEST_NEW_PATH_INODE,
  },
};
const VALUE_TESTS: Record<string, number> = {
  "process.uid": T.VG_TEST_UID,
  "process.euid": T.VG_TEST_EUID,
  "process.gid": T.VG_TEST_GID,
  "net.remote.port": T.VG_TEST_PORT,
  "net.local.port": T.VG_TEST_PORT,
};

/**
 * The entries of every table. `identify` gives the identities the kernel may see for the file at
 * a path (identity.ts), none when there is no file (the path entry alone then names it).
 */
export function mapEntries(
  hooks: readonly HookTable[],
  identify: (path: string) => readonly FileIdentity[],
): MapEntries {
  const strings = new Map<string, StringEntry>();
  const values = new Map<string, ValueEntry>();
  const inodes = new Map<string, InodeEntry>();
  const addresses = new Map<string, AddressEntry>();
  const tests = new Map<number, number>();
  for (const table of hooks) {
    const hook = HOOK_INDEX[table.hook];
    let used = 0;
    table.atoms.forEach((atom, i) => {
      const bit = 1n << BigInt(i);
      const add = <E extends { atoms: bigint }>(into: Map<string, E>, key: string, entry: E, test: number) => {
        used |= 1 << test;
        const before = into.get(key);
        if (before) before.atoms |= bit;
        else into.set(key, entry);
      };
      for (const value of atom.values) {
        const s = STRING_TESTS[atom.field];
        if (s && typeof value === "string") {
          if (atom.test === "suffix") {
            const bytes = Buffer.from(value).reverse();
            add(
              strings,
              `${hook}/${s.suffix}/${bytes.toString("hex")}`,
              { hook, test: s.suffix, bytes, atoms: bit },
              s.suffix,
            );
            continue;
          }
          const bytes =
            atom.test === "exact" ? Buffer.concat([Buffer.from(value), Buffer.alloc(1)]) : Buffer.from(value);
          add(
            strings,
            `${hook}/${s.exact}/${bytes.toString("hex")}`,
            { hook, test: s.exact, bytes, atoms: bit },
            s.exact,
          );
          if (atom.test === "exact" && s.inode !== undefined) {
            const test = s.inode;
            for (const id of identify(value)) {
              add(inodes, `${hook}/${test}/${id.dev}/${id.ino}`, { hook, test, ...id, atoms: bit, path: value }, test);
            }
          }
          continue;
        }
        const v = VALUE_TESTS[atom.field];
        if (v !== undefined && typeof value === "number") {
          add(values, `${hook}/${v}/${value}`, { hook, test: v, value, atoms: bit }, v);
          continue;
        }
        if (atom.test === "cidr" && typeof value === "string") {
          const c = parseCidr(value);
          if (typeof c === "string") throw new Error(c);
          const bits = mappedBits(c);
          const addr = maskBytes(addressBytes(c.address), bits);
          add(
            addresses,
            `${hook}/${addr.toString("hex")}/${bits}`,
            { hook, addr, bits, atoms: bit },
            T.VG_TEST_ADDRESS,
          );
          continue;
        }
        throw new Error(`no kernel test for ${atom.field} ${atom.test} ${String(value)}`);
      }
    });
    tests.set(hook, used);
  }
  // The trie answers with the longest prefix only: each entry carries the atoms of every
  // shorter entry it extends.
  const stringList = [...strings.values()];
  for (const e of stringList) {
    for (const f of stringList) {
      if (
        f !== e &&
        f.hook === e.hook &&
        f.test === e.test &&
        f.bytes.length < e.bytes.length &&
        e.bytes.subarray(0, f.bytes.length).equals(f.bytes)
      ) {
        e.atoms |= f.atoms;
      }
    }
  }
  const addressList = [...addresses.values()];
  const inherited = addressList.map((e) => {
    let atoms = e.atoms;
    for (const f of addressList) {
      if (f !== e && f.hook === e.hook && f.bits < e.bits && maskBytes(e.addr, f.bits).equals(f.addr)) atoms |= f.atoms;
    }
    return atoms;
  });
  addressList.forEach((e, i) => {
    e.atoms = inherited[i] as bigint;
  });
  return {
    strings: stringList,
    values: [...values.values()],
    inodes: [...inodes.values()],
    addresses: addressList,
    tests,
  };
}

/** The first `bits` bits of an address, the rest zero. */
function maskBytes(addr: Buffer, bits: number): Buffer {
  const out = Buffer.from(addr);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    out[i] = (out[i] as number) & (0xff << (8 - keep)) & 0xff;
  }
  return out;
}
