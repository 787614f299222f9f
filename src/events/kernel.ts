import { z } from "zod";
import { eventBase } from "./process.js";

/**
 * Events of the kernel domain (kernel.*, ns.*, fs.*): changes to the running kernel and to
 * what processes see of the system. Each is one syscall, reported at its exit with its result,
 * so attempts that failed are events too. A field that does not apply to the syscall is null.
 */

const result = z.number().int().describe("the syscall's result: 0, a descriptor or an id, or a negative errno");

export const ModuleLoadSchema = z.object({
  kind: z.literal("kernel.module_load"),
  ...eventBase,
  module: z.object({
    syscall: z.enum(["init_module", "finit_module"]),
    result,
    // Not nullable: the serializer cannot tell a bigint from null in an anyOf.
    image_size: z.bigint().describe("init_module: bytes of the module image in memory; 0 for finit_module"),
    fd: z.number().int().nullable().describe("finit_module: the module file's descriptor"),
    path: z.string().nullable().describe("finit_module: the module file's absolute path"),
    path_truncated: z.boolean(),
    params: z.string().describe("module parameters"),
    params_truncated: z.boolean(),
    flags: z.number().int().describe("finit_module: MODULE_INIT_* flags"),
    flag_names: z.array(z.string()),
  }),
});

export const BpfSchema = z.object({
  kind: z.literal("kernel.bpf"),
  ...eventBase,
  bpf: z.object({
    command: z
      .enum([
        "prog_load",
        "prog_attach",
        "raw_tracepoint_open",
        "btf_load",
        "link_create",
        "map_get_fd_by_id",
        "prog_get_fd_by_id",
        "link_get_fd_by_id",
      ])
      .describe("the *_get_fd_by_id commands only appear in the sensor's self-protection alerts"),
    result,
    prog_type: z.number().int().nullable().describe("prog_load: uapi enum bpf_prog_type"),
    prog_type_name: z.string().nullable().describe('prog_load: e.g. "socket_filter", "kprobe"'),
    attach_type: z
      .number()
      .int()
      .nullable()
      .describe(
        "prog_load: expected attach type, null when none is given; prog_attach, link_create: attach type (uapi enum bpf_attach_type)",
      ),
    attach_type_name: z.string().nullable(),
    insn_count: z.number().int().nullable().describe("prog_load: instructions submitted"),
    prog_flags: z.number().int().nullable().describe("prog_load: BPF_F_* flags"),
    prog_name: z.string().nullable().describe("prog_load: the name the loader gave"),
    prog_id: z
      .number()
      .int()
      .nullable()
      .describe("prog_load: the new program's id; attach commands: the attached program's id"),
    prog_tag: z.string().nullable().describe("prog_load that succeeded: the program's tag (hex), as bpftool shows it"),
    target_fd: z.number().int().nullable().describe("prog_attach, link_create: target descriptor or ifindex"),
    tracepoint: z.string().nullable().describe("raw_tracepoint_open: the tracepoint's name"),
    btf_size: z.number().int().nullable().describe("btf_load: bytes of BTF"),
    object_id: z
      .number()
      .int()
      .nullable()
      .describe("*_get_fd_by_id: the id of the map, program or link asked for; null for the others"),
  }),
});

export const NAMESPACES = ["mnt", "pid", "net", "user", "uts", "ipc", "cgroup", "time"] as const;

export const NsChangeSchema = z.object({
  kind: z.literal("ns.change"),
  ...eventBase,
  ns: z.object({
    syscall: z.enum(["unshare", "setns", "clone", "clone3"]),
    result: result.describe(
      "unshare, setns: 0 or a negative errno; clone, clone3: the child's pid or a negative errno",
    ),
    flags: z.bigint().describe("unshare, clone, clone3: the flags passed; setns: nstype"),
    namespaces: z
      .array(z.enum(NAMESPACES))
      .describe("the namespace types changed: from the flags, or for setns the namespace file's own type"),
    fd: z.number().int().nullable().describe("setns: the descriptor"),
    fd_kind: z.enum(["namespace", "pidfd", "other"]).nullable().describe("setns: what the descriptor refers to"),
    ns_inum: z.number().int().nullable().describe("setns on a namespace file: its inode number, as /proc/PID/ns shows"),
  }),
});

export const MountSchema = z.object({
  kind: z.literal("fs.mount"),
  ...eventBase,
  mount: z.object({
    syscall: z.enum(["mount", "umount2", "fsmount", "move_mount"]),
    result: result.describe("fsmount: the mount descriptor; otherwise 0; or a negative errno"),
    target: z
      .string()
      .nullable()
      .describe("absolute: a relative path is joined to the cwd (or move_mount's directory), links and .. unresolved"),
    target_truncated: z.boolean(),
    source: z
      .string()
      .nullable()
      .describe("mount: as given (a path for bind mounts and moves); fsmount, move_mount of a descriptor: device name"),
    source_truncated: z.boolean(),
    fstype: z.string().nullable(),
    data: z.string().nullable().describe("mount: the first bytes of the options, with password values redacted"),
    data_truncated: z.boolean(),
    flags: z.bigint().describe("mount: MS_*; umount2: MNT_*; fsmount: FSMOUNT_*; move_mount: MOVE_MOUNT_*"),
    flag_names: z.array(z.string()),
    attr_flags: z.number().int().nullable().describe("fsmount: MOUNT_ATTR_*"),
    fd: z.number().int().nullable().describe("fsmount: the filesystem context; move_mount: from_dfd"),
  }),
});

export const kernelEvents = [ModuleLoadSchema, BpfSchema, NsChangeSchema, MountSchema] as const;
