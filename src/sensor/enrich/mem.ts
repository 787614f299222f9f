import type { MemRecord } from "../kernel/decode.js";
import type { Builders } from "./builders.js";

/** Names of the bits set in `value`; bits without a name as hex. */
export function bitNames(value: number, names: readonly (readonly [number, string])[]): string[] {
  const out: string[] = [];
  let rest = value >>> 0;
  for (const [bit, name] of names) {
    if ((rest & bit) === bit) {
      out.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest) out.push(`0x${rest.toString(16)}`);
  return out;
}

// include/uapi/asm-generic/mman-common.h and mman.h (x86, arm64, riscv; a few architectures differ).
const PROT = [
  [0x1, "PROT_READ"],
  [0x2, "PROT_WRITE"],
  [0x4, "PROT_EXEC"],
  [0x8, "PROT_SEM"],
  [0x01000000, "PROT_GROWSDOWN"],
  [0x02000000, "PROT_GROWSUP"],
] as const;

const MAP_TYPE: Record<number, string> = { 1: "MAP_SHARED", 2: "MAP_PRIVATE", 3: "MAP_SHARED_VALIDATE" };
const MAP = [
  [0x10, "MAP_FIXED"],
  [0x20, "MAP_ANONYMOUS"],
  [0x40, "MAP_32BIT"],
  [0x100, "MAP_GROWSDOWN"],
  [0x800, "MAP_DENYWRITE"],
  [0x1000, "MAP_EXECUTABLE"],
  [0x2000, "MAP_LOCKED"],
  [0x4000, "MAP_NORESERVE"],
  [0x8000, "MAP_POPULATE"],
  [0x10000, "MAP_NONBLOCK"],
  [0x20000, "MAP_STACK"],
  [0x40000, "MAP_HUGETLB"],
  [0x80000, "MAP_SYNC"],
  [0x100000, "MAP_FIXED_NOREPLACE"],
  [0x4000000, "MAP_UNINITIALIZED"],
] as const;

/** MAP_* names: the mapping type (the low two bits) first, then the flags. */
export function mapFlagNames(flags: number): string[] {
  const type = MAP_TYPE[flags & 0x3];
  const rest = bitNames(flags & ~0x3, MAP);
  return type ? [type, ...rest] : rest;
}

// include/uapi/linux/memfd.h; MFD_HUGETLB's size bits (26-31) are left as hex.
const MFD = [
  [0x1, "MFD_CLOEXEC"],
  [0x2, "MFD_ALLOW_SEALING"],
  [0x4, "MFD_HUGETLB"],
  [0x8, "MFD_NOEXEC_SEAL"],
  [0x10, "MFD_EXEC"],
] as const;

export const memBuilders: Builders<MemRecord> = {
  "mem.exec_mapping": (r, base, emit) => {
    const mmap = r.syscall === "mmap";
    emit({
      kind: "mem.exec_mapping",
      ...base,
      mapping: {
        syscall: r.syscall,
        address: r.addr,
        length: r.len,
        prot: r.prot,
        prot_names: bitNames(r.prot, PROT),
        flags: r.mapFlags,
        flag_names: mmap ? mapFlagNames(r.mapFlags) : [],
        fd: mmap ? r.fd : null,
        path: r.path || null,
        path_truncated: r.pathTruncated,
        pkey: r.syscall === "pkey_mprotect" ? r.pkey : null,
        result: r.result,
      },
    });
  },
  "mem.memfd_create": (r, base, emit) => {
    emit({
      kind: "mem.memfd_create",
      ...base,
      memfd: {
        name: r.name,
        name_truncated: r.nameTruncated,
        flags: r.flags,
        flag_names: bitNames(r.flags, MFD),
        result: r.result,
      },
    });
  },
};
