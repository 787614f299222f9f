import { readFileSync, statSync } from "node:fs";
import type { BpfObject } from "./bridge.js";
import { enums, structs } from "./layout.generated.js";

/** What may happen to a path for an event about it to be sent (enum vg_path_access). */
export type Access = "none" | "read" | "write" | "any";

export interface KindInterest {
  enabled: boolean;
  /** Access sent where no prefix matches; "any" when absent. */
  pathDefault?: Access;
  /** Path prefix → access sent below it; the longest prefix wins. */
  paths?: Record<string, Access>;
}

/** What the kernel sends: written into the filter maps of lib/filter.h. */
export interface InterestSpec {
  kinds: Record<string, KindInterest>;
  /** Task names (comm, up to 15 bytes) whose events are dropped in the kernel. */
  ignoreComms: string[];
  /** Executables whose processes' events are dropped in the kernel (by inode, so links do not escape). */
  ignoreExes: string[];
}

const ACCESS: Record<Access, number> = {
  none: enums.vg_path_access.VG_ACCESS_NONE,
  read: enums.vg_path_access.VG_ACCESS_READ,
  write: enums.vg_path_access.VG_ACCESS_WRITE,
  any: enums.vg_path_access.VG_ACCESS_ANY,
};

/** "VG_OP_KERNEL_MODULE_LOAD" → "kernel.module_load". */
function kindName(opName: string): string {
  const rest = opName.replace(/^VG_OP_/, "").toLowerCase();
  const dot = rest.indexOf("_");
  return `${rest.slice(0, dot)}.${rest.slice(dot + 1)}`;
}

/** Every kind the kernel can send, by name, with its op number. */
export const KERNEL_KINDS: ReadonlyMap<string, number> = new Map(
  Object.entries(enums.vg_op)
    .filter(([name]) => name !== "VG_OP_MAX")
    .map(([name, op]) => [kindName(name), op]),
);

/** Process events keep the process table true; they are never filtered. */
const ALWAYS_SENT = new Set(["process.exec", "process.fork", "process.exit"]);

// Deleting, renaming, creating directories and truncating are constant in scratch directories;
// they matter where they change the system or its logs. chmod, chown, link and symlink matter
// anywhere (a setuid bit, a link to a sensitive file) and are rare: they stay on everywhere.
const SYSTEM_WRITES = ["/etc/", "/root/", "/boot/", "/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/"];
const writesBelow = (prefixes: string[]): KindInterest => ({
  enabled: true,
  pathDefault: "none",
  paths: Object.fromEntries(prefixes.map((p) => [p, "write" as Access])),
});
/**
 * The default: every kind on; file opens only where reading is sensitive or writing changes
 * the system, because an unfiltered open stream on a busy host is millions of events a second.
 */
export const DEFAULT_INTEREST: InterestSpec = {
  kinds: {
    "file.open": {
      enabled: true,
      pathDefault: "none",
      paths: {
        "/etc/": "write",
        "/etc/shadow": "any",
        "/etc/gshadow": "any",
        "/etc/sudoers": "any",
        "/etc/ssh/": "any",
        "/etc/kubernetes/": "any",
        "/root/": "any",
        "/boot/": "write",
        "/usr/": "write",
        "/bin/": "write",
        "/sbin/": "write",
        "/lib/": "write",
        "/lib64/": "write",
        "/var/spool/cron/": "any",
        "/var/log/": "write",
        "/home/": "write",
        "/dev/shm/": "write",
        "/proc/sys/": "write",
        "/sys/kernel/": "write",
      },
    },
    "file.unlink": writesBelow([...SYSTEM_WRITES, "/var/spool/cron/", "/var/log/", "/home/", "/dev/shm/"]),
    "file.rename": writesBelow([...SYSTEM_WRITES, "/var/spool/cron/", "/var/log/", "/home/", "/dev/shm/"]),
    "file.mkdir": writesBelow([...SYSTEM_WRITES, "/var/spool/cron/", "/home/", "/dev/shm/"]),
    "file.truncate": writesBelow([...SYSTEM_WRITES, "/var/log/"]),
  },
  ignoreComms: [],
  ignoreExes: [],
};

/** Everything the kernel can send, unfiltered (benchmarks, troubleshooting). */
export const DELIVER_ALL: InterestSpec = { kinds: {}, ignoreComms: [], ignoreExes: [] };

/** Kernel encoding of a device number (major << 20 | minor), from stat()'s encoding. */
export function kernelDev(dev: bigint): number {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return Number((major << 20n) | minor);
}

function u32(...values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => {
    b.writeUInt32LE(v, i * 4);
  });
  return b;
}

const PATH_KEY = structs.vg_path_key;
const PREFIX_BYTES = PATH_KEY.fields.path.size;

export function pathKey(op: number, prefix: string): Buffer {
  const bytes = Buffer.from(prefix);
  if (bytes.length > PREFIX_BYTES) throw new Error(`path prefix longer than ${PREFIX_BYTES} bytes: ${prefix}`);
  const key = Buffer.alloc(PATH_KEY.size);
  key.writeUInt32LE(8 + 8 * bytes.length, PATH_KEY.fields.prefixlen.offset);
  key.writeUInt8(op, PATH_KEY.fields.kind.offset);
  bytes.copy(key, PATH_KEY.fields.path.offset);
  return key;
}

function commKey(comm: string): Buffer {
  const key = Buffer.alloc(structs.vg_task.fields.comm.size);
  Buffer.from(comm).copy(key, 0, 0, key.length - 1);
  return key;
}

/** Makes a map hold exactly these entries: new ones first, then the stale ones go. */
function replaceEntries(obj: BpfObject, map: string, entries: [Buffer, Buffer][]): void {
  for (const [key, value] of entries) obj.mapUpdate(map, key, value);
  deleteOthers(obj, map, entries);
}

/** Deletes every entry of a map whose key is not among `entries`, in the order `order` gives. */
function deleteOthers(
  obj: BpfObject,
  map: string,
  entries: [Buffer, Buffer][],
  order?: (a: Buffer, b: Buffer) => number,
): void {
  const wanted = new Set(entries.map(([k]) => k.toString("hex")));
  const stale: Buffer[] = [];
  for (let key = obj.mapNextKey(map, null); key; key = obj.mapNextKey(map, key)) {
    if (!wanted.has(key.toString("hex"))) stale.push(key);
  }
  if (order) stale.sort(order);
  for (const key of stale) obj.mapDelete(map, key);
}

const SPLIT = enums.vg_path_access.VG_PATH_SPLIT;
const SPLIT_LEN = enums.vg_path_access.VG_PATH_SPLIT_LEN;

/**
 * The trie's entries for one kind: each prefix with its access, and each directory that a
 * longer prefix starts below ("/etc/" and "/" of "/etc/ssh/sshd_config") marked VG_PATH_SPLIT,
 * with its length, beside the access its own longest prefix gives. The kernel decides an open from the file's
 * directory alone, once per directory, unless the directory is marked (vg_file_open_verdict in
 * bpf/lib/file-path.h); a marked directory's names are looked up one by one.
 */
export function prefixEntries(prefixes: Record<string, Access>, fallback: Access): Map<string, number> {
  const real = new Map(Object.entries(prefixes).map(([p, a]): [string, number] => [p, ACCESS[a]]));
  const entries = new Map(real);
  for (const prefix of real.keys()) {
    for (let i = prefix.indexOf("/"); i >= 0 && i < prefix.length - 1; i = prefix.indexOf("/", i + 1)) {
      const dir = prefix.slice(0, i + 1);
      if ((entries.get(dir) ?? 0) & SPLIT) continue;
      let access = ACCESS[fallback];
      for (let n = dir.length; n > 0; n--) {
        const own = real.get(dir.slice(0, n));
        if (own !== undefined) {
          access = own;
          break;
        }
      }
      entries.set(dir, access | SPLIT | (Buffer.byteLength(dir) << SPLIT_LEN));
    }
  }
  return entries;
}

/** The kind whose opens the kernel decides by directory: the only one that reads the marks. */
const SPLIT_KIND = "file.open";

/**
 * Told to the kernel after every write of the filter maps: verdicts it kept per directory are
 * decided again. Only a change matters, so one counter serves every loaded object.
 */
let interestGen = 0n;

/** Path keys by the length of their prefix. */
const shorterFirst = (a: Buffer, b: Buffer) =>
  a.readUInt32LE(PATH_KEY.fields.prefixlen.offset) - b.readUInt32LE(PATH_KEY.fields.prefixlen.offset);

/**
 * Writes an interest spec into the kernel's filter maps so that an event wanted by both the old
 * and the new spec is never dropped in between: at every step each path gets the old spec's
 * verdict or the new one's. The new prefixes go in first, longest first, while the kinds still
 * say what the old spec said: a path whose longest match is a new prefix then has every longer
 * new prefix in already, so it gets the new verdict; any other path keeps the old one. Then
 * each kind's configuration. The old spec's prefixes go last and shortest first: removed
 * earlier, or a longer one before a shorter, a path under one would fall back to a prefix or a
 * default that neither spec gives it.
 */
export function applyInterest(obj: BpfObject, spec: InterestSpec, sensorTgid: number): void {
  for (const kind of Object.keys(spec.kinds)) {
    if (!KERNEL_KINDS.has(kind)) throw new Error(`unknown event kind in interest: ${kind}`);
  }
  const exeKeys = spec.ignoreExes.map((path) => {
    const st = statSync(path, { bigint: true });
    const key = Buffer.alloc(structs.vg_exe_key.size);
    key.writeBigUInt64LE(st.ino, structs.vg_exe_key.fields.ino.offset);
    key.writeUInt32LE(kernelDev(st.dev), structs.vg_exe_key.fields.dev.offset);
    return key;
  });
  const one = Buffer.from([1]);
  replaceEntries(
    obj,
    "vg_ignore_comms",
    spec.ignoreComms.map((c) => [commKey(c), one]),
  );
  replaceEntries(
    obj,
    "vg_ignore_exes",
    exeKeys.map((k) => [k, one]),
  );

  const interestOf = (kind: string): KindInterest =>
    ALWAYS_SENT.has(kind) ? { enabled: true } : (spec.kinds[kind] ?? { enabled: true });
  const paths: [Buffer, Buffer][] = [];
  for (const [kind, op] of KERNEL_KINDS) {
    const interest = interestOf(kind);
    const prefixes = interest.paths ?? {};
    const entries =
      kind === SPLIT_KIND
        ? prefixEntries(prefixes, interest.pathDefault ?? "any")
        : new Map(Object.entries(prefixes).map(([p, a]): [string, number] => [p, ACCESS[a]]));
    for (const [prefix, value] of entries) paths.push([pathKey(op, prefix), u32(value)]);
  }
  paths.sort(([a], [b]) => shorterFirst(b, a));
  for (const [key, value] of paths) obj.mapUpdate("vg_paths", key, value);

  for (const [kind, op] of KERNEL_KINDS) {
    const interest = interestOf(kind);
    const usePaths = Object.keys(interest.paths ?? {}).length > 0 ? 1 : 0;
    obj.mapUpdate(
      "vg_kinds",
      u32(op),
      u32(interest.enabled ? 1 : 0, ACCESS[interest.pathDefault ?? "any"], usePaths, 0),
    );
  }
  const flags =
    (spec.ignoreComms.length ? enums.vg_config_flags.VG_CFG_IGNORE_COMMS : 0) |
    (spec.ignoreExes.length ? enums.vg_config_flags.VG_CFG_IGNORE_EXES : 0);
  const config = () => {
    const value = Buffer.alloc(structs.vg_config.size);
    value.writeUInt32LE(sensorTgid, structs.vg_config.fields.sensor_tgid.offset);
    value.writeUInt32LE(flags, structs.vg_config.fields.flags.offset);
    value.writeBigUInt64LE(interestGen, structs.vg_config.fields.interest_gen.offset);
    obj.mapUpdate("vg_config", u32(0), value);
  };
  config();
  deleteOthers(obj, "vg_paths", paths, shorterFirst);
  // Last: a verdict the kernel kept from a state in between is dropped only once all is written.
  interestGen++;
  config();
}

const ACCESS_NAMES = Object.keys(ACCESS);

/** Reads an interest spec from a JSON file; every problem is named with where it is. */
export function readInterest(path: string): InterestSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new Error(`interest ${path}: ${(err as Error).message}`);
  }
  const problems: string[] = [];
  const spec: InterestSpec = { kinds: {}, ignoreComms: [], ignoreExes: [] };
  const obj = (raw ?? {}) as Record<string, unknown>;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) problems.push("the top level must be an object");
  for (const key of Object.keys(obj)) {
    if (!["kinds", "ignoreComms", "ignoreExes"].includes(key)) problems.push(`unknown field "${key}"`);
  }
  for (const list of ["ignoreComms", "ignoreExes"] as const) {
    const v = obj[list] ?? [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) problems.push(`${list} must be an array of strings`);
    else spec[list] = v as string[];
  }
  const kinds = (obj.kinds ?? {}) as Record<string, Record<string, unknown>>;
  for (const [kind, k] of Object.entries(kinds)) {
    const at = `kinds["${kind}"]`;
    if (!KERNEL_KINDS.has(kind)) problems.push(`${at}: unknown event kind`);
    if (typeof k?.enabled !== "boolean") problems.push(`${at}.enabled must be true or false`);
    if (k?.pathDefault !== undefined && !ACCESS_NAMES.includes(String(k.pathDefault)))
      problems.push(`${at}.pathDefault must be one of ${ACCESS_NAMES.join(", ")}`);
    for (const [prefix, access] of Object.entries((k?.paths ?? {}) as Record<string, unknown>)) {
      if (!ACCESS_NAMES.includes(String(access)))
        problems.push(`${at}.paths["${prefix}"] must be one of ${ACCESS_NAMES.join(", ")}`);
      if (Buffer.byteLength(prefix) > PREFIX_BYTES)
        problems.push(`${at}.paths["${prefix}"] is longer than ${PREFIX_BYTES} bytes`);
    }
    spec.kinds[kind] = k as unknown as KindInterest;
  }
  if (problems.length) throw new Error(`interest ${path}: ${problems.join("; ")}`);
  return spec;
}
