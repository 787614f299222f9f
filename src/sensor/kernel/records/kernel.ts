import { enums, structs } from "../layout.generated.js";
import { type DecodeErrorKind, type Handler, type TaskRecord, tail } from "./common.js";

/** Records of the kernel domain (module loads, bpf, namespaces, mounts) (bpf/records/kernel.h). */

export interface ModuleLoadRecord {
  op: "kernel.module_load";
  ktime: bigint;
  task: TaskRecord;
  call: "init_module" | "finit_module";
  /** 0, or a negative errno. */
  result: number;
  /** init_module: bytes of the image. */
  imageLen: bigint;
  /** finit_module: the module file's descriptor; -1 otherwise. */
  fd: number;
  /** finit_module: MODULE_INIT_* */
  loadFlags: number;
  /** finit_module: the module file's path; "" otherwise. */
  path: string;
  pathTruncated: boolean;
  params: string;
  paramsTruncated: boolean;
}

export type BpfCommand = "prog_load" | "prog_attach" | "raw_tracepoint_open" | "btf_load" | "link_create";

/** Fields that do not apply to the command are 0 (or empty). */
export interface BpfRecord {
  op: "kernel.bpf";
  ktime: bigint;
  task: TaskRecord;
  command: BpfCommand;
  result: number;
  progType: number;
  attachType: number;
  insnCnt: number;
  progFlags: number;
  progId: number;
  targetFd: number;
  btfSize: number;
  /** Hex, as bpftool shows it; "" when the load failed. */
  progTag: string;
  /** prog_load: the program's name; raw_tracepoint_open: the tracepoint. */
  name: string;
}

export type NsCall = "unshare" | "setns" | "clone" | "clone3";
export type NsFdKind = "none" | "namespace" | "pidfd" | "other";

export interface NsChangeRecord {
  op: "ns.change";
  ktime: bigint;
  task: TaskRecord;
  call: NsCall;
  result: number;
  /** unshare, clone, clone3: their flags; setns: nstype. */
  flags: bigint;
  /** setns: the descriptor; -1 otherwise. */
  fd: number;
  fdKind: NsFdKind;
  /** setns on a namespace file: its CLONE_NEW* type and inode number; 0 otherwise. */
  fdNsType: number;
  fdNsInum: number;
}

export type MountCall = "mount" | "umount2" | "fsmount" | "move_mount";

export interface MountRecord {
  op: "fs.mount";
  ktime: bigint;
  task: TaskRecord;
  call: MountCall;
  result: number;
  flags: bigint;
  attrFlags: number;
  /** fsmount: fs_fd; move_mount: from_dfd; -1 otherwise. */
  fd: number;
  target: string;
  targetTruncated: boolean;
  source: string;
  sourceTruncated: boolean;
  fstype: string;
  data: string;
  dataTruncated: boolean;
}

export type KernelRecord = ModuleLoadRecord | BpfRecord | NsChangeRecord | MountRecord;

const FLAGS = enums.vg_kernel_flags;

const MODULE_CALLS = new Map<number, ModuleLoadRecord["call"]>([
  [enums.vg_module_call.VG_MODULE_INIT, "init_module"],
  [enums.vg_module_call.VG_MODULE_FINIT, "finit_module"],
]);

const M = structs.vg_module_load.fields;
const decodeModuleLoad: Handler<ModuleLoadRecord> = (b, at, size, ktime): ModuleLoadRecord | DecodeErrorKind => {
  if (size < structs.vg_module_load.size) return "truncated";
  const call = MODULE_CALLS.get(b.u32(at + M.call.offset));
  if (!call) return "malformed";
  const parts = tail(at, structs.vg_module_load.size, size, [
    b.u16(at + M.path_len.offset),
    b.u16(at + M.params_len.offset),
  ]);
  if (!parts) return "malformed";
  const [pathAt = 0, paramsAt = 0, end = 0] = parts;
  const flags = b.u32(at + M.rec_flags.offset);
  return {
    op: "kernel.module_load",
    ktime,
    task: b.task(at + M.task.offset),
    call,
    result: b.i64n(at + M.result.offset),
    imageLen: b.u64(at + M.image_len.offset),
    fd: b.i32(at + M.fd.offset),
    loadFlags: b.u32(at + M.load_flags.offset),
    path: b.str(pathAt, paramsAt),
    pathTruncated: (flags & FLAGS.VG_KERNEL_PATH_TRUNCATED) !== 0,
    params: b.str(paramsAt, end),
    paramsTruncated: (flags & FLAGS.VG_KERNEL_PARAMS_TRUNCATED) !== 0,
  };
};

const BPF_COMMANDS = new Map<number, BpfCommand>([
  [enums.vg_bpf_cmd.VG_BPF_PROG_LOAD, "prog_load"],
  [enums.vg_bpf_cmd.VG_BPF_PROG_ATTACH, "prog_attach"],
  [enums.vg_bpf_cmd.VG_BPF_RAW_TRACEPOINT_OPEN, "raw_tracepoint_open"],
  [enums.vg_bpf_cmd.VG_BPF_BTF_LOAD, "btf_load"],
  [enums.vg_bpf_cmd.VG_BPF_LINK_CREATE, "link_create"],
]);

const B = structs.vg_bpf.fields;
const decodeBpf: Handler<BpfRecord> = (b, at, size, ktime) => {
  if (size < structs.vg_bpf.size) return "truncated";
  const command = BPF_COMMANDS.get(b.u32(at + B.cmd.offset));
  if (!command) return "malformed";
  const r = b.i64n(at + B.result.offset);
  return {
    op: "kernel.bpf",
    ktime,
    task: b.task(at + B.task.offset),
    command,
    result: r,
    progType: b.u32(at + B.prog_type.offset),
    attachType: b.u32(at + B.attach_type.offset),
    insnCnt: b.u32(at + B.insn_cnt.offset),
    progFlags: b.u32(at + B.prog_flags.offset),
    progId: b.u32(at + B.prog_id.offset),
    targetFd: b.i32(at + B.target_fd.offset),
    btfSize: b.u32(at + B.btf_size.offset),
    progTag: command === "prog_load" && r >= 0 ? b.buf.toString("hex", at + B.prog_tag.offset, at + B.name.offset) : "",
    name: b.cString(at + B.name.offset, B.name.size),
  };
};

const NS_CALLS = new Map<number, NsCall>([
  [enums.vg_ns_call.VG_NS_UNSHARE, "unshare"],
  [enums.vg_ns_call.VG_NS_SETNS, "setns"],
  [enums.vg_ns_call.VG_NS_CLONE, "clone"],
  [enums.vg_ns_call.VG_NS_CLONE3, "clone3"],
]);

const NS_FD_KINDS = new Map<number, NsFdKind>([
  [enums.vg_ns_fd_kind.VG_NS_FD_NONE, "none"],
  [enums.vg_ns_fd_kind.VG_NS_FD_NAMESPACE, "namespace"],
  [enums.vg_ns_fd_kind.VG_NS_FD_PIDFD, "pidfd"],
  [enums.vg_ns_fd_kind.VG_NS_FD_OTHER, "other"],
]);

const N = structs.vg_ns_change.fields;
const decodeNsChange: Handler<NsChangeRecord> = (b, at, size, ktime) => {
  if (size < structs.vg_ns_change.size) return "truncated";
  const call = NS_CALLS.get(b.u32(at + N.call.offset));
  const fdKind = NS_FD_KINDS.get(b.u32(at + N.fd_kind.offset));
  if (!call || !fdKind) return "malformed";
  return {
    op: "ns.change",
    ktime,
    task: b.task(at + N.task.offset),
    call,
    result: b.i64n(at + N.result.offset),
    flags: b.u64(at + N.flags.offset),
    fd: b.i32(at + N.fd.offset),
    fdKind,
    fdNsType: b.u32(at + N.fd_ns_type.offset),
    fdNsInum: b.u32(at + N.fd_ns_inum.offset),
  };
};

const MOUNT_CALLS = new Map<number, MountCall>([
  [enums.vg_mount_call.VG_MOUNT_MOUNT, "mount"],
  [enums.vg_mount_call.VG_MOUNT_UMOUNT, "umount2"],
  [enums.vg_mount_call.VG_MOUNT_FSMOUNT, "fsmount"],
  [enums.vg_mount_call.VG_MOUNT_MOVE_MOUNT, "move_mount"],
]);

const T = structs.vg_mount.fields;
const decodeMount: Handler<MountRecord> = (b, at, size, ktime) => {
  if (size < structs.vg_mount.size) return "truncated";
  const call = MOUNT_CALLS.get(b.u32(at + T.call.offset));
  if (!call) return "malformed";
  const parts = tail(at, structs.vg_mount.size, size, [
    b.u16(at + T.target_len.offset),
    b.u16(at + T.source_len.offset),
    b.u16(at + T.fstype_len.offset),
    b.u16(at + T.data_len.offset),
  ]);
  if (!parts) return "malformed";
  const [targetAt = 0, sourceAt = 0, fstypeAt = 0, dataAt = 0, end = 0] = parts;
  const flags = b.u32(at + T.rec_flags.offset);
  return {
    op: "fs.mount",
    ktime,
    task: b.task(at + T.task.offset),
    call,
    result: b.i64n(at + T.result.offset),
    flags: b.u64(at + T.flags.offset),
    attrFlags: b.u32(at + T.attr_flags.offset),
    fd: b.i32(at + T.fd.offset),
    target: b.str(targetAt, sourceAt),
    targetTruncated: (flags & FLAGS.VG_KERNEL_PATH_TRUNCATED) !== 0,
    source: b.str(sourceAt, fstypeAt),
    sourceTruncated: (flags & FLAGS.VG_KERNEL_SOURCE_TRUNCATED) !== 0,
    fstype: b.str(fstypeAt, dataAt),
    data: b.str(dataAt, end),
    dataTruncated: (flags & FLAGS.VG_KERNEL_PARAMS_TRUNCATED) !== 0,
  };
};

const OP = enums.vg_op;
export const kernelHandlers = new Map<number, Handler<KernelRecord>>([
  [OP.VG_OP_KERNEL_MODULE_LOAD, decodeModuleLoad],
  [OP.VG_OP_KERNEL_BPF, decodeBpf],
  [OP.VG_OP_NS_CHANGE, decodeNsChange],
  [OP.VG_OP_FS_MOUNT, decodeMount],
]);
