import { z } from "zod";
import { type ContainerInfo, ContainerSchema, type KubernetesInfo, KubernetesSchema } from "./container.js";

/** Nanoseconds since the Unix epoch; bigint because they exceed 2^53. */
export const Nanoseconds = z.bigint().describe("nanoseconds since the Unix epoch");

export const AncestorSchema = z.object({
  pid: z.number().int(),
  exe: z.string(),
});

/** The process context every event carries. */
export const ProcessSchema = z.object({
  pid: z.number().int().describe("thread-group id"),
  tid: z.number().int(),
  ppid: z.number().int(),
  uid: z.number().int(),
  gid: z.number().int(),
  euid: z.number().int(),
  comm: z.string(),
  exe: z.string().describe("absolute path of the executable, resolved by the kernel"),
  args: z.array(z.string()).readonly(),
  args_truncated: z.boolean(),
  cwd: z.string(),
  cgroup_id: z.bigint(),
  start_time: Nanoseconds,
  ancestry: z.array(AncestorSchema).describe("parent first, up to init, bounded"),
});

/** The fields every event has besides its kind and its own part. */
export const eventBase = {
  time: Nanoseconds,
  mono_time: z.bigint().describe("CLOCK_MONOTONIC nanoseconds when the kernel saw it"),
  process: ProcessSchema,
  container: ContainerSchema.nullable().describe("the container the process runs in; null on the host"),
  k8s: KubernetesSchema.nullable().describe("the Kubernetes pod of that container; null outside Kubernetes"),
};

export const ProcessExecSchema = z.object({
  kind: z.literal("process.exec"),
  ...eventBase,
  exec: z.object({
    old_tid: z.number().int().describe("thread that called execve; differs from pid when a thread execs"),
    inode: z.bigint(),
    dev: z.number().int(),
    fileless: z.boolean().describe("the executable is in no directory: a memfd or a deleted file"),
  }),
});

export const ProcessForkSchema = z.object({
  kind: z.literal("process.fork"),
  ...eventBase,
});

export const ProcessExitSchema = z.object({
  kind: z.literal("process.exit"),
  ...eventBase,
  exit: z.object({
    code: z.number().int().nullable().describe("exit status when the process exited"),
    signal: z.number().int().nullable().describe("signal number when a signal ended it"),
    core_dumped: z.boolean(),
  }),
});

/** A process ran a program that is in no directory (memfd_create + exec, a deleted binary). */
export const MemfdExecSchema = z.object({
  kind: z.literal("mem.memfd_exec"),
  ...eventBase,
  exec: ProcessExecSchema.shape.exec,
});

export const processEvents = [ProcessExecSchema, ProcessForkSchema, ProcessExitSchema, MemfdExecSchema] as const;

export type Ancestor = z.infer<typeof AncestorSchema>;
export type ProcessContext = z.infer<typeof ProcessSchema>;
/** What every event carries besides its kind and its own part. */
export interface EventBase {
  time: bigint;
  mono_time: bigint;
  process: ProcessContext;
  container: ContainerInfo | null;
  k8s: KubernetesInfo | null;
}
