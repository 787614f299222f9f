import type { Clocks } from "../kernel/bridge.js";

/**
 * Turns kernel clocks into wall time. The kernel stamps records with CLOCK_MONOTONIC and process
 * starts with CLOCK_BOOTTIME; both are converted with an offset to CLOCK_REALTIME, re-read now
 * and then so that a stepped wall clock is followed.
 */
export class WallClock {
  private monoOffset = 0n;
  private bootOffset = 0n;

  constructor(private readonly read: () => Clocks) {
    this.refresh();
  }

  refresh(): void {
    const c = this.read();
    this.monoOffset = c.realtime - c.monotonic;
    this.bootOffset = c.realtime - c.boottime;
  }

  fromMonotonic(ns: bigint): bigint {
    return ns + this.monoOffset;
  }

  fromBoottime(ns: bigint): bigint {
    return ns + this.bootOffset;
  }
}
