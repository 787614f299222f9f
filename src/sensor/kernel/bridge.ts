import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** An error from the kernel bridge: what failed, and the errno the kernel gave. */
export interface BridgeError extends Error {
  errno: number;
  code: string; // e.g. "EPERM"
}

export interface MapInfo {
  name: string;
  type: number; // enum bpf_map_type
  keySize: number;
  valueSize: number;
  maxEntries: number;
  perCpu: boolean;
}

export interface RingStats {
  records: number; // records handed to JavaScript
  batches: number;
  bytes: number;
  oversized: number; // records larger than a batch, skipped
}

export interface Ring {
  /** Stops the drain thread; resolves once the last batch has been delivered. Idempotent. */
  stop(): Promise<RingStats>;
  stats(): RingStats;
}

export interface RingOptions {
  /** Bytes a batch may hold before it is handed over. */
  batchBytes: number;
  /** Longest a record waits in the native batch; also the ring poll timeout. */
  flushMs: number;
}

/**
 * A batch is a sequence of entries: u32 length (little endian) and the record bytes, each entry
 * zero-padded to a multiple of 8 bytes (so the next starts at round8(4 + length)). The Buffer
 * belongs to JavaScript once handed over.
 */
export type BatchHandler = (batch: Buffer) => void;

export interface BpfId {
  name: string;
  id: number;
}

export interface BpfObject {
  /** Sets a `const volatile` global in .rodata (before load). `value` must have the variable's size. */
  setGlobal(name: string, value: Buffer): void;
  setMapMaxEntries(map: string, maxEntries: number): void;
  setAutoload(program: string, autoload: boolean): void;
  programs(): string[];
  /** The ELF section a program was defined in ("tp_btf/sys_exit"). */
  programSection(program: string): string;
  maps(): MapInfo[];
  load(): void;
  /** Attaches a program by its section's convention; returns a link handle. */
  attach(program: string): number;
  /** Attaches a cgroup program to the cgroup at `cgroupPath`. */
  attachCgroup(program: string, cgroupPath: string): number;
  detach(link: number): void;
  /** The kernel's ids of the loaded maps and programs, and of the attached links (named by handle). */
  ids(): { maps: BpfId[]; programs: BpfId[]; links: BpfId[] };
  /** Per-CPU maps: the value is numPossibleCpus() slots, each rounded up to 8 bytes. */
  mapLookup(map: string, key: Buffer): Buffer | null;
  mapUpdate(map: string, key: Buffer, value: Buffer, flags?: number): void;
  /** Puts `program` in a program array at `key`, for the tail calls through it. */
  mapSetProgram(map: string, key: Buffer, program: string): void;
  /**
   * Puts the map `inner` of this object in a map of maps at `key`. Returns once every program
   * that was running has finished (the kernel waits for an RCU grace period).
   */
  mapSetInner(map: string, key: Buffer, inner: string): void;
  mapDelete(map: string, key: Buffer): boolean;
  /** Next key after `key` (or the first when null); null at the end. */
  mapNextKey(map: string, key: Buffer | null): Buffer | null;
  openRing(map: string, onBatch: BatchHandler, options: RingOptions): Ring;
  /** Detaches every link, aborts running rings (undelivered batches dropped), frees the object. Idempotent. */
  close(): void;
}

export interface Clocks {
  realtime: bigint;
  monotonic: bigint;
  boottime: bigint;
}

/** Counts of a fanotify guard's thread (native/src/fanotify.c). */
export interface FanotifyStats {
  events: number;
  allowed: number;
  denied: number;
  /** Answered ALLOW by the watchdog: not decided within the deadline. */
  timeouts: number;
  errors: number;
  /** Denials not reported because the queue was full. */
  dropped: number;
}

/** A fanotify group whose permission events a native thread answers from a table. */
export interface FanotifyGuard {
  /** Puts a table in force (the serialised form of src/sensor/enforce/fanotify.ts). */
  setRules(table: Buffer): void;
  /** fanotify_mark(FAN_MARK_ADD) of the file at `path`. */
  mark(path: string, mask: number): void;
  unmark(path: string, mask: number): void;
  /** What was denied, or let through past the deadline (slot -1), since the last call. */
  takeDenials(): { pid: number; hook: "exec" | "open"; slot: number; dev: number; ino: bigint; path: string }[];
  stats(): FanotifyStats;
  /** The thread waits this long before each decision: for tests of the deadline. */
  delayDecisions(ms: number): void;
  /** Stops the thread and closes the group; the kernel lets whatever waits through. */
  close(): void;
}

export interface KernelBridge {
  openObject(path: string): BpfObject;
  clocks(): Clocks;
  numPossibleCpus(): number;
  /** mount(2); throws with errno. */
  mount(source: string, target: string, fstype: string, flags: number, data: string | null): void;
  /** fanotify_init(2) then close: 0 when it works, else the errno. */
  probeFanotify(initFlags: number, eventFlags: number): number;
  /** A fanotify group and its thread; an event not answered within `deadlineMs` is allowed. */
  openFanotify(deadlineMs: number): FanotifyGuard;
  /** libbpf's verdict on a program type (enum bpf_prog_type): 1 yes, 0 no, <0 -errno. */
  probeProgType(type: number): number;
  libbpfVersion(): string;
  /** Recent libbpf log lines (verifier output among them), cleared by the call. */
  drainLog(): string[];
}

const here = dirname(fileURLToPath(import.meta.url));

/** The addon lives in native/build; from dist/src/sensor/kernel that is four levels up. */
export function addonPath(): string {
  for (const up of ["../../../..", "../../.."]) {
    const p = join(here, up, "native/build/Release/vigil_bridge.node");
    if (existsSync(p)) return p;
  }
  throw new Error("kernel bridge not built: run `npm run build` (native/build/Release/vigil_bridge.node missing)");
}

let bridge: KernelBridge | undefined;

export function kernelBridge(): KernelBridge {
  if (!bridge) bridge = createRequire(import.meta.url)(addonPath()) as KernelBridge;
  return bridge;
}
