import type { BpfObject } from "../kernel/bridge.js";
import { structs } from "../kernel/layout.generated.js";
import { HOOK_COUNT, HOOK_INDEX, type HookTable, type MapEntries, SLOTS } from "./plan.js";

/**
 * Writes enforcement tables into the kernel's maps without a moment in which a rule is lost
 * (bpf/records/enforce.h): a new set goes into the generation not in force, then one write of
 * vg_enforce_state switches to it, then the kernel is made to wait for every program still
 * reading the old generation, which is only then free to be overwritten by the next set.
 */

const STATE = "vg_enforce_state";
const HOOKS = "vg_enforce_hooks";
const STRINGS = "vg_enforce_strings";
const VALUES = "vg_enforce_values";
const INODES = "vg_enforce_inodes";
const ADDRS = "vg_enforce_addrs";
const BARRIER = "vg_enforce_barrier";
const BARRIER_INNER = "vg_enforce_barrier_inner";

const SK = structs.vg_enforce_str_key;
const VK = structs.vg_enforce_value_key;
const IK = structs.vg_enforce_inode_key;
const AK = structs.vg_enforce_addr_key;
const HC = structs.vg_enforce_hook_config;
/** Bits of gen, hook, test and pad before a trie key's string or address. */
const KEY_HEAD_BITS = 32;

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
}

function u64(value: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(value);
  return b;
}

/** The generation byte of a key of each map, to find the stale entries of one generation. */
const GEN_OFFSET: Record<string, number> = {
  [STRINGS]: SK.fields.gen.offset,
  [VALUES]: VK.fields.gen.offset,
  [INODES]: IK.fields.gen.offset,
  [ADDRS]: AK.fields.gen.offset,
};

export class EnforcementMaps {
  /** The generation in force, as vg_enforce_state.seq holds it. */
  private seqInForce = 0;

  constructor(private readonly obj: BpfObject) {
    const state = obj.mapLookup(STATE, u32(0));
    this.seqInForce = state ? state.readUInt32LE(0) : 0;
  }

  get seq(): number {
    return this.seqInForce;
  }

  /** Puts `tables` in force; returns the new generation's sequence number. */
  write(tables: readonly HookTable[], entries: MapEntries): number {
    const seq = (this.seqInForce + 1) >>> 0;
    const gen = seq & 1;
    for (const map of [STRINGS, VALUES, INODES, ADDRS]) this.clear(map, gen);
    for (const e of entries.strings) {
      const key = Buffer.alloc(SK.size);
      key.writeUInt32LE(KEY_HEAD_BITS + 8 * e.bytes.length, SK.fields.prefixlen.offset);
      key[SK.fields.gen.offset] = gen;
      key[SK.fields.hook.offset] = e.hook;
      key[SK.fields.test.offset] = e.test;
      e.bytes.copy(key, SK.fields.str.offset);
      this.obj.mapUpdate(STRINGS, key, u64(e.atoms));
    }
    for (const e of entries.values) {
      const key = Buffer.alloc(VK.size);
      key[VK.fields.gen.offset] = gen;
      key[VK.fields.hook.offset] = e.hook;
      key[VK.fields.test.offset] = e.test;
      key.writeUInt32LE(e.value, VK.fields.value.offset);
      this.obj.mapUpdate(VALUES, key, u64(e.atoms));
    }
    for (const e of entries.inodes) {
      const key = Buffer.alloc(IK.size);
      key.writeBigUInt64LE(e.ino, IK.fields.ino.offset);
      key.writeUInt32LE(e.dev, IK.fields.dev.offset);
      key[IK.fields.gen.offset] = gen;
      key[IK.fields.hook.offset] = e.hook;
      key[IK.fields.test.offset] = e.test;
      this.obj.mapUpdate(INODES, key, u64(e.atoms));
    }
    for (const e of entries.addresses) {
      const key = Buffer.alloc(AK.size);
      key.writeUInt32LE(KEY_HEAD_BITS + e.bits, AK.fields.prefixlen.offset);
      key[AK.fields.gen.offset] = gen;
      key[AK.fields.hook.offset] = e.hook;
      e.addr.copy(key, AK.fields.addr.offset);
      this.obj.mapUpdate(ADDRS, key, u64(e.atoms));
    }
    const byHook = new Map(tables.map((t) => [HOOK_INDEX[t.hook], t]));
    for (let hook = 0; hook < HOOK_COUNT; hook++) {
      this.obj.mapUpdate(
        HOOKS,
        u32(gen * HOOK_COUNT + hook),
        hookConfig(byHook.get(hook), entries.tests.get(hook) ?? 0),
      );
    }
    const state = Buffer.alloc(structs.vg_enforce_state.size);
    state.writeUInt32LE(seq, structs.vg_enforce_state.fields.seq.offset);
    this.obj.mapUpdate(STATE, u32(0), state);
    this.seqInForce = seq;
    // Returns once no program can still be reading the generation just left.
    this.obj.mapSetInner(BARRIER, u32(0), BARRIER_INNER);
    return seq;
  }

  /** Deletes the entries of generation `gen`, which no program reads (see the class comment). */
  private clear(map: string, gen: number): void {
    const offset = GEN_OFFSET[map] as number;
    const stale: Buffer[] = [];
    for (let key = this.obj.mapNextKey(map, null); key; key = this.obj.mapNextKey(map, key)) {
      if (key[offset] === gen) stale.push(key);
    }
    for (const key of stale) this.obj.mapDelete(map, key);
  }
}

function hookConfig(table: HookTable | undefined, tests: number): Buffer {
  const b = Buffer.alloc(HC.size);
  if (!table) return b;
  const slots = table.slots.slice(0, SLOTS);
  b.writeUInt32LE(slots.length, HC.fields.slots.offset);
  b.writeUInt32LE(tests, HC.fields.tests.offset);
  let kill = 0n;
  slots.forEach((s, i) => {
    if (s.kill) kill |= 1n << BigInt(i);
    b.writeBigUInt64LE(s.require, HC.fields.require.offset + 8 * i);
    b.writeBigUInt64LE(s.forbid, HC.fields.forbid.offset + 8 * i);
  });
  b.writeBigUInt64LE(kill, HC.fields.kill.offset);
  return b;
}
