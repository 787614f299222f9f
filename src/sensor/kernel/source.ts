import { join } from "node:path";
import { bpfObjectDir } from "../../paths.js";
import type { BatchHandler, BpfObject, BridgeError, KernelBridge, Ring, RingStats } from "./bridge.js";
import { applyInterest, type InterestSpec, KERNEL_KINDS } from "./interest.js";
import { enums } from "./layout.generated.js";
import { SENSOR_OBJECTS } from "./preflight.js";
import { placeSyscallHandlers, SYSCALL_DISPATCHER, SYSCALL_HANDLERS } from "./syscalls.js";

export interface KernelSourceOptions {
  /** Ring buffer size in bytes (a power of two, at least a page). */
  ringBytes: number;
  /** Ring fill level at which the kernel wakes the drain thread early, in bytes. */
  wakeupBytes: number;
  batchBytes: number;
  flushMs: number;
}

export const DEFAULT_SOURCE_OPTIONS: KernelSourceOptions = {
  ringBytes: 16 << 20,
  wakeupBytes: 4 << 20,
  batchBytes: 1 << 20,
  flushMs: 10,
};

/** Without these the process table cannot be kept: failing to attach them is fatal. */
const REQUIRED_PROGRAMS = new Set(["vg_fork", "vg_exec", "vg_exit"]);

export interface AttachFailure {
  program: string;
  error: string;
  /** errno name; ENOENT: this kernel has no such hook (a syscall it was built without). */
  code: string;
}

/**
 * Programs the enforcement stage loads and attaches as the host allows (src/sensor/enforce):
 * the event source leaves them alone.
 */
export const isEnforcementProgram = (program: string): boolean => program.startsWith("vg_enforce_");

/** Run by the dispatcher's tail calls: attached, one would run for every syscall of the host. */
const HANDLERS = new Set(SYSCALL_HANDLERS.map((h) => h.program));

/** One ring buffer: records the kernel could not reserve in it, and how the rest were drained. */
export interface RingReport extends RingStats {
  name: string;
  /** Records lost because the ring was full (vg_counters), summed over CPUs. */
  lost: bigint;
}

/** A per-CPU u64 counter's value, summed. */
function sumPerCpu(value: Buffer | null): bigint {
  let sum = 0n;
  for (let at = 0; value && at + 8 <= value.length; at += 8) sum += value.readBigUInt64LE(at);
  return sum;
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
}

/** The kernel programs that watch the host and the ring their records arrive on. */
export class KernelSource {
  private obj: BpfObject | undefined;
  private links: number[] = [];
  private ring: Ring | undefined;
  /** Programs that did not attach on this kernel; their events are missing. */
  readonly attachFailures: AttachFailure[] = [];

  constructor(
    private readonly bridge: KernelBridge,
    private readonly options: KernelSourceOptions = DEFAULT_SOURCE_OPTIONS,
  ) {}

  /**
   * Loads, writes the interest spec into the filter maps, puts the syscall handlers in their
   * dispatchers' tables, and attaches every other program; records queue in the ring until
   * drain() starts reading them.
   */
  attach(
    interest: InterestSpec,
    object: string = SENSOR_OBJECTS.plain,
    loadEnforcement: (program: string) => boolean = () => false,
  ): void {
    const obj = this.bridge.openObject(join(bpfObjectDir, object));
    this.obj = obj;
    try {
      for (const p of obj.programs()) if (isEnforcementProgram(p)) obj.setAutoload(p, loadEnforcement(p));
      obj.setMapMaxEntries("events", this.options.ringBytes);
      obj.setGlobal("vg_wakeup_bytes", u32(this.options.wakeupBytes));
      obj.load();
      applyInterest(obj, interest, process.pid);
      // A dispatcher with no handler would cost every syscall for nothing.
      const dispatch = this.placeSyscallHandlers(obj);
      // Process programs first, so that every later event's process is known.
      const programs = obj
        .programs()
        .filter((p) => !HANDLERS.has(p) && !isEnforcementProgram(p) && (dispatch || p !== SYSCALL_DISPATCHER.program))
        .sort((a, b) => Number(REQUIRED_PROGRAMS.has(b)) - Number(REQUIRED_PROGRAMS.has(a)));
      for (const program of programs) {
        try {
          this.links.push(obj.attach(program));
        } catch (err) {
          if (REQUIRED_PROGRAMS.has(program)) throw err;
          const e = err as Partial<BridgeError>;
          this.attachFailures.push({ program, error: (e.message ?? "").split("\n")[0] ?? "", code: e.code ?? "" });
        }
      }
    } catch (err) {
      this.close();
      throw err;
    }
  }

  /**
   * Fills the dispatcher's table; a handler whose syscall this machine lacks is a failure to
   * attach. Returns whether any handler was placed.
   */
  private placeSyscallHandlers(obj: BpfObject): boolean {
    for (const program of obj.programs()) {
      const handler = obj.programSection(program) === "tp_btf/sys_exit" && program !== SYSCALL_DISPATCHER.program;
      if (handler && !HANDLERS.has(program))
        throw new Error(`${program} handles no syscall: add it to src/sensor/kernel/syscalls.ts`);
    }
    const { placed, missing } = placeSyscallHandlers();
    for (const h of placed) obj.mapSetProgram(SYSCALL_DISPATCHER.map, u32(h.nr), h.program);
    for (const h of missing) this.attachFailures.push({ program: h.program, error: h.error, code: h.code });
    return placed.length > 0;
  }

  /** The loaded object, for the stages that attach its other programs and write its maps. */
  get object(): BpfObject | undefined {
    return this.obj;
  }

  /** Replaces what the kernel sends. */
  setInterest(interest: InterestSpec): void {
    if (!this.obj) throw new Error("setInterest before attach");
    applyInterest(this.obj, interest, process.pid);
  }

  /** Events each kind's filters kept in the kernel, summed over CPUs, by kind name. */
  filteredByKind(): Record<string, number> {
    const out: Record<string, number> = {};
    if (!this.obj) return out;
    for (const [kind, op] of KERNEL_KINDS) {
      const n = sumPerCpu(this.obj.mapLookup("vg_filtered", u32(op)));
      if (n > 0n) out[kind] = Number(n);
    }
    return out;
  }

  drain(onBatch: BatchHandler): void {
    if (!this.obj) throw new Error("drain before attach");
    this.ring = this.obj.openRing("events", onBatch, {
      batchBytes: this.options.batchBytes,
      flushMs: this.options.flushMs,
    });
  }

  /** Records the kernel could not put in the ring, summed over CPUs. */
  lostRecords(): bigint {
    if (!this.obj) return 0n;
    return sumPerCpu(this.obj.mapLookup("vg_counters", u32(enums.vg_counter.VG_COUNTER_LOST)));
  }

  ringStats(): RingStats | undefined {
    return this.ring?.stats();
  }

  /** Every ring the programs write to; today the one "events" ring. */
  rings(): RingReport[] {
    const drained = this.ring?.stats() ?? { records: 0, batches: 0, bytes: 0, oversized: 0 };
    return [{ name: "events", lost: this.lostRecords(), ...drained }];
  }

  /** Detaches first so nothing new arrives, then delivers what the ring still holds. */
  async stop(): Promise<void> {
    if (!this.obj) return;
    for (const link of this.links) this.obj.detach(link);
    this.links = [];
    await this.ring?.stop();
  }

  close(): void {
    this.obj?.close();
    this.obj = undefined;
    this.links = [];
    this.ring = undefined;
  }
}
