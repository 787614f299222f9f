import { z } from "zod";
import { eventBase } from "./process.js";

/** A process's credentials. Capability sets are bit masks (bit N: capability N). */
export const CredSchema = z.object({
  uid: z.number().int(),
  euid: z.number().int(),
  suid: z.number().int(),
  fsuid: z.number().int(),
  gid: z.number().int(),
  egid: z.number().int(),
  sgid: z.number().int(),
  fsgid: z.number().int(),
  cap_effective: z.bigint(),
  cap_permitted: z.bigint(),
  cap_inheritable: z.bigint(),
});

/** An id asked for; null when the caller passed -1 ("leave unchanged"). */
const RequestedId = z.number().int().nullable().optional();

export const CredChangeSchema = z.object({
  kind: z.literal("cred.change"),
  ...eventBase,
  cred: z.object({
    syscall: z.enum([
      "setuid",
      "setgid",
      "setreuid",
      "setregid",
      "setresuid",
      "setresgid",
      "setfsuid",
      "setfsgid",
      "capset",
    ]),
    requested: z
      .object({
        uid: RequestedId,
        gid: RequestedId,
        ruid: RequestedId,
        euid: RequestedId,
        suid: RequestedId,
        fsuid: RequestedId,
        rgid: RequestedId,
        egid: RequestedId,
        sgid: RequestedId,
        fsgid: RequestedId,
        cap_effective: z.bigint().optional(),
        cap_permitted: z.bigint().optional(),
        cap_inheritable: z.bigint().optional(),
      })
      .describe("the syscall's arguments by name: setresuid has ruid, euid, suid; setuid has uid; capset has the sets"),
    old: CredSchema.describe("before the syscall"),
    new: CredSchema.describe("after the syscall"),
    result: z.number().int().describe("0 or -errno; setfsuid/setfsgid: the previous fsuid/fsgid (they cannot fail)"),
  }),
});

/** A ptrace request that starts tracing or changes the tracee; reads and resumes are not reported. */
export const PtraceSchema = z.object({
  kind: z.literal("proc.ptrace"),
  ...eventBase,
  ptrace: z.object({
    request: z.number().int(),
    request_name: z.string().describe('e.g. "PTRACE_ATTACH"; "PTRACE_<number>" for one without a name'),
    target_pid: z
      .number()
      .int()
      .nullable()
      .describe("the thread id as passed, in the caller's pid namespace; null for PTRACE_TRACEME (the parent traces)"),
    addr: z.bigint(),
    data: z.bigint(),
    result: z.number().int().describe("0 or -errno"),
  }),
});

/** A signal sent to another process (signals a process sends itself are not reported). */
export const SignalSchema = z.object({
  kind: z.literal("proc.signal"),
  ...eventBase,
  signal: z.object({
    syscall: z.enum(["kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"]),
    number: z.number().int().describe("0 checks that the target exists"),
    name: z.string().nullable().describe('e.g. "SIGTERM"; null for 0'),
    target_pid: z
      .number()
      .int()
      .nullable()
      .describe("as passed, in the sender's pid namespace: 0 the sender's group, -1 all, -N group N; null for tkill"),
    target_tid: z.number().int().nullable().describe("tkill, tgkill, rt_tgsigqueueinfo: the thread; else null"),
    result: z.number().int().describe("0 or -errno"),
  }),
});

/** Events of processes acting on credentials and other processes (cred.change, proc.*); each schema spreads eventBase from process.ts. */
export const procEvents = [CredChangeSchema, PtraceSchema, SignalSchema] as const;
