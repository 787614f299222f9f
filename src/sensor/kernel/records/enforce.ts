import { enums, structs } from "../layout.generated.js";
import { type Handler, type TaskRecord, tail } from "./common.js";
import { AF_INET, AF_INET6, ipv4, ipv6 } from "./net.js";

/** Where an operation was decided (enum vg_enforce_hook). */
export type EnforceHook = "exec" | "connect" | "bind" | "open" | "unlink" | "rename" | "chmod" | "module";

/** What self-protection refused (enum vg_protect_op). */
export type ProtectOp = "signal" | "ptrace" | "bpf" | "write" | "unlink" | "rename" | "chmod";

/** A kernel program stopped an operation (struct vg_enforce_denial). */
export interface DenialRecord {
  op: "enforce.denial";
  ktime: bigint;
  task: TaskRecord;
  /** The generation of the enforcement maps the decision was made in. */
  seq: number;
  hook: EnforceHook;
  /**
   * denied: the call failed with EPERM; killed: SIGKILL before the new program ran; protected:
   * self-protection refused it (see `protect`).
   */
  action: "denied" | "killed" | "protected";
  /** The rule's slot in its hook's table (denied, killed). */
  slot: number;
  /** What self-protection refused (protected). */
  protect?: ProtectOp;
  /** exec: the program that was to run; file hooks: the file. */
  dev: number;
  ino: bigint;
  /** exec: the program's path; file hooks: the file's (a rename's old name). */
  path: string;
  /** A rename's new name. */
  newPath: string;
  /** connect, bind: AF_INET or AF_INET6; 0 otherwise. */
  family: number;
  /** The remote address of a connect, the local one of a bind; "" otherwise. */
  address: string;
  port: number;
  /** IPPROTO_*. */
  protocol: number;
  /** Self-protection: the pid signalled or traced, or the BPF object's id. */
  target: number;
  /** Self-protection: the signal, the ptrace mode, the BPF object's kind (enum vg_protect_bpf_kind). */
  arg: number;
  /** chmod: the new mode; open: the file's f_mode. */
  mode: number;
}

const H = enums.vg_enforce_hook;
export const HOOKS = new Map<number, EnforceHook>([
  [H.VG_HOOK_EXEC, "exec"],
  [H.VG_HOOK_CONNECT, "connect"],
  [H.VG_HOOK_BIND, "bind"],
  [H.VG_HOOK_OPEN, "open"],
  [H.VG_HOOK_UNLINK, "unlink"],
  [H.VG_HOOK_RENAME, "rename"],
  [H.VG_HOOK_CHMOD, "chmod"],
  [H.VG_HOOK_MODULE, "module"],
]);

const P = enums.vg_protect_op;
const PROTECT_OPS = new Map<number, ProtectOp>([
  [P.VG_PROTECT_SIGNAL, "signal"],
  [P.VG_PROTECT_PTRACE, "ptrace"],
  [P.VG_PROTECT_BPF, "bpf"],
  [P.VG_PROTECT_WRITE, "write"],
  [P.VG_PROTECT_UNLINK, "unlink"],
  [P.VG_PROTECT_RENAME, "rename"],
  [P.VG_PROTECT_CHMOD, "chmod"],
]);

const A = enums.vg_enforce_action;
const ACTIONS = new Map<number, DenialRecord["action"]>([
  [A.VG_ENFORCE_DENIED, "denied"],
  [A.VG_ENFORCE_KILLED, "killed"],
  [A.VG_ENFORCE_PROTECTED, "protected"],
]);
const D = structs.vg_enforce_denial.fields;

const decodeDenial: Handler<DenialRecord> = (b, at, size, ktime) => {
  if (size < structs.vg_enforce_denial.size) return "truncated";
  const hook = HOOKS.get(b.u16(at + D.hook.offset));
  const action = ACTIONS.get(b.u16(at + D.action.offset));
  const slot = b.u32(at + D.slot.offset);
  const protect = action === "protected" ? PROTECT_OPS.get(slot) : undefined;
  // Self-protection's signal, ptrace and bpf refusals are at no rule hook: hook 0 there.
  if (hook === undefined || !action || (action === "protected" && !protect)) return "malformed";
  const parts = tail(at, structs.vg_enforce_denial.size, size, [
    b.u16(at + D.path_len.offset),
    b.u16(at + D.new_path_len.offset),
  ]);
  if (!parts) return "malformed";
  const family = b.u16(at + D.family.offset);
  const addr = at + D.addr.offset;
  return {
    op: "enforce.denial",
    ktime,
    task: b.task(at + D.task.offset),
    seq: b.u32(at + D.seq.offset),
    hook,
    action,
    slot,
    ...(protect && { protect }),
    dev: b.u32(at + D.dev.offset),
    ino: b.u64(at + D.ino.offset),
    path: b.str(parts[0] as number, parts[1] as number),
    newPath: b.str(parts[1] as number, parts[2] as number),
    family,
    // The maps hold IPv4 as IPv4-mapped: an IPv4 socket's address is its last 4 bytes.
    address: family === AF_INET ? ipv4(b, addr + 12) : family === AF_INET6 ? ipv6(b, addr) : "",
    port: b.u16(at + D.port.offset),
    protocol: b.u16(at + D.protocol.offset),
    target: b.u32(at + D.target.offset),
    arg: b.u32(at + D.arg.offset),
    mode: b.u32(at + D.mode.offset),
  };
};

export const enforceHandlers = new Map<number, Handler<DenialRecord>>([
  [enums.vg_op.VG_OP_ENFORCE_DENIAL, decodeDenial],
]);
