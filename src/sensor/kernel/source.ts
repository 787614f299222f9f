import { join } from "node:path";
import { bpfObjectDir } from "../../paths.js";
import type { BatchHandler, BpfObject, KernelBridge, Ring, RingStats } from "./bridge.js";
import { enums } from "./layout.generated.js";

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

/** Programs of process.bpf.o, attached in this order. */
const PROCESS_PROGRAMS = ["vg_fork", "vg_exec", "vg_exit"];

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

  constructor(
    private readonly bridge: KernelBridge,
    private readonly options: KernelSourceOptions = DEFAULT_SOURCE_OPTIONS,
  ) {}

  /** Loads and attaches; records queue in the ring until drain() starts reading them. */
  attach(): void {
    const obj = this.bridge.openObject(join(bpfObjectDir, "process.bpf.o"));
    this.obj = obj;
    try {
      obj.setMapMaxEntries("events", this.options.ringBytes);
      obj.setGlobal("vg_wakeup_bytes", u32(this.options.wakeupBytes));
      obj.load();
      for (const program of PROCESS_PROGRAMS) this.links.push(obj.attach(program));
    } catch (err) {
      this.close();
      throw err;
    }
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
    const key = u32(enums.vg_counter.VG_COUNTER_LOST);
    const value = this.obj.mapLookup("vg_counters", key);
    if (!value) return 0n;
    let sum = 0n;
    for (let at = 0; at + 8 <= value.length; at += 8) sum += value.readBigUInt64LE(at);
    return sum;
  }

  ringStats(): RingStats | undefined {
    return this.ring?.stats();
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
