import { enums, structs } from "../layout.generated.js";
import { type Handler, type TaskRecord, tail } from "./common.js";
import { AF_INET, AF_INET6, ipv4, ipv6 } from "./net.js";

/** Where an operation was decided (enum vg_enforce_hook). */
export type EnforceHook = "exec" | "connect" | "bind" | "open";

/** A kernel program stopped an operation (struct vg_enforce_denial). */
export interface DenialRecord {
  op: "enforce.denial";
  ktime: bigint;
  task: TaskRecord;
  /** The generation of the enforcement maps the decision was made in. */
  seq: number;
  hook: EnforceHook;
  /** denied: the call failed with EPERM; killed: SIGKILL before the new program ran. */
  action: "denied" | "killed";
  slot: number;
  /** exec: the program that was to run. */
  exeDev: number;
  exeIno: bigint;
  exe: string;
  /** connect, bind: AF_INET or AF_INET6; 0 for exec. */
  family: number;
  /** The remote address of a connect, the local one of a bind; "" for exec. */
  address: string;
  port: number;
  /** IPPROTO_*. */
  protocol: number;
}

const H = enums.vg_enforce_hook;
export const HOOKS = new Map<number, EnforceHook>([
  [H.VG_HOOK_EXEC, "exec"],
  [H.VG_HOOK_CONNECT, "connect"],
  [H.VG_HOOK_BIND, "bind"],
  [H.VG_HOOK_OPEN, "open"],
]);

const A = enums.vg_enforce_action;
const D = structs.vg_enforce_denial.fields;

const decodeDenial: Handler<DenialRecord> = (b, at, size, ktime) => {
  if (size < structs.vg_enforce_denial.size) return "truncated";
  const hook = HOOKS.get(b.u16(at + D.hook.offset));
  const code = b.u16(at + D.action.offset);
  if (!hook || (code !== A.VG_ENFORCE_DENIED && code !== A.VG_ENFORCE_KILLED)) return "malformed";
  const parts = tail(at, structs.vg_enforce_denial.size, size, [b.u16(at + D.path_len.offset)]);
  if (!parts) return "malformed";
  const family = b.u16(at + D.family.offset);
  const addr = at + D.addr.offset;
  return {
    op: "enforce.denial",
    ktime,
    task: b.task(at + D.task.offset),
    seq: b.u32(at + D.seq.offset),
    hook,
    action: code === A.VG_ENFORCE_KILLED ? "killed" : "denied",
    slot: b.u32(at + D.slot.offset),
    exeDev: b.u32(at + D.exe_dev.offset),
    exeIno: b.u64(at + D.exe_ino.offset),
    exe: b.str(parts[0] as number, parts[1] as number),
    family,
    // The maps hold IPv4 as IPv4-mapped: an IPv4 socket's address is its last 4 bytes.
    address: family === AF_INET ? ipv4(b, addr + 12) : family === AF_INET6 ? ipv6(b, addr) : "",
    port: b.u16(at + D.port.offset),
    protocol: b.u16(at + D.protocol.offset),
  };
};

export const enforceHandlers = new Map<number, Handler<DenialRecord>>([
  [enums.vg_op.VG_OP_ENFORCE_DENIAL, decodeDenial],
]);
