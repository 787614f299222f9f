import { z } from "zod";

/**
 * The event model: the one source for the TypeScript types, the published JSON Schema and the
 * field names rules may use. Kinds evolve by adding only; a changed kind is a new kind.
 * Times are nanoseconds since the epoch, kept as bigint because they exceed 2^53.
 */

export const Nanoseconds = z.bigint().describe("nanoseconds since the Unix epoch");

export const AncestorSchema = z.object({
  pid: z.number().int(),
  exe: z.string(),
});

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

const base = {
  time: Nanoseconds,
  mono_time: z.bigint().describe("CLOCK_MONOTONIC nanoseconds when the kernel saw it"),
  process: ProcessSchema,
};

export const ProcessExecSchema = z.object({
  kind: z.literal("process.exec"),
  ...base,
  exec: z.object({
    old_tid: z.number().int().describe("thread that called execve; differs from pid when a thread execs"),
    inode: z.bigint(),
    dev: z.number().int(),
  }),
});

export const ProcessForkSchema = z.object({
  kind: z.literal("process.fork"),
  ...base,
});

export const ProcessExitSchema = z.object({
  kind: z.literal("process.exit"),
  ...base,
  exit: z.object({
    code: z.number().int().nullable().describe("exit status when the process exited"),
    signal: z.number().int().nullable().describe("signal number when a signal ended it"),
    core_dumped: z.boolean(),
  }),
});

export const EventSchema = z.discriminatedUnion("kind", [ProcessExecSchema, ProcessForkSchema, ProcessExitSchema]);

export type Ancestor = z.infer<typeof AncestorSchema>;
export type ProcessContext = z.infer<typeof ProcessSchema>;
export type ProcessExecEvent = z.infer<typeof ProcessExecSchema>;
export type ProcessForkEvent = z.infer<typeof ProcessForkSchema>;
export type ProcessExitEvent = z.infer<typeof ProcessExitSchema>;
export type VigilEvent = z.infer<typeof EventSchema>;
export type EventKind = VigilEvent["kind"];
export const EVENT_KINDS = EventSchema.options.map((o) => o.shape.kind.value);
