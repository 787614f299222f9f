import { z } from "zod";
import { eventBase } from "./process.js";

/** A request for memory that is writable and executable at once, failed or not. */
export const ExecMappingSchema = z.object({
  kind: z.literal("mem.exec_mapping"),
  ...eventBase,
  mapping: z.object({
    syscall: z.enum(["mmap", "mprotect", "pkey_mprotect"]),
    address: z.bigint().describe("as passed: mmap's hint (0 for none), mprotect's start"),
    length: z.bigint(),
    prot: z.number().int().describe("PROT_* as passed; always has PROT_WRITE and PROT_EXEC"),
    prot_names: z.array(z.string()).describe('e.g. ["PROT_READ", "PROT_WRITE", "PROT_EXEC"]'),
    flags: z.number().int().describe("mmap's MAP_* flags; 0 for mprotect"),
    flag_names: z.array(z.string()).describe('e.g. ["MAP_PRIVATE", "MAP_ANONYMOUS"]'),
    fd: z.number().int().nullable().describe("mmap's file descriptor as passed; null for mprotect"),
    path: z.string().nullable().describe("the mapped file (mmap of a file), resolved by the kernel; else null"),
    path_truncated: z.boolean(),
    pkey: z.number().int().nullable().describe("pkey_mprotect's protection key; else null"),
    result: z.bigint().describe("mmap: the mapping's address; mprotect: 0; or -errno"),
  }),
});

/** An anonymous file created in memory: the usual first step of a program that never touches a disk. */
export const MemfdCreateSchema = z.object({
  kind: z.literal("mem.memfd_create"),
  ...eventBase,
  memfd: z.object({
    name: z.string().describe("as passed; /proc/PID/fd shows it as /memfd:NAME"),
    name_truncated: z.boolean(),
    flags: z.number().int().describe("MFD_* as passed"),
    flag_names: z.array(z.string()).describe('e.g. ["MFD_CLOEXEC", "MFD_ALLOW_SEALING"]'),
    result: z.number().int().describe("the new file descriptor, or -errno"),
  }),
});

/** Events of the memory domain; each schema spreads eventBase from process.ts. */
export const memEvents = [ExecMappingSchema, MemfdCreateSchema] as const;
