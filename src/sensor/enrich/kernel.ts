import type { NAMESPACES } from "../../events/kernel.js";
import type { KernelDomainRecord } from "../kernel/decode.js";
import { enums } from "../kernel/layout.generated.js";
import type { Builders } from "./builders.js";

type Namespace = (typeof NAMESPACES)[number];

/** Names of the bits set in `flags`, in the table's order; unknown bits are left out. */
function flagNames(flags: bigint, table: readonly (readonly [bigint, string])[]): string[] {
  return table.filter(([bit]) => (flags & bit) !== 0n).map(([, name]) => name);
}

const bits = (entries: [number, string][]) => entries.map(([bit, name]) => [BigInt(bit), name] as const);

// uapi include/uapi/linux/module.h
const MODULE_INIT_FLAGS = bits([
  [1, "MODULE_INIT_IGNORE_MODVERSIONS"],
  [2, "MODULE_INIT_IGNORE_VERMAGIC"],
  [4, "MODULE_INIT_COMPRESSED_FILE"],
]);

// uapi include/uapi/linux/mount.h
const MS_FLAGS = bits([
  [0x1, "MS_RDONLY"],
  [0x2, "MS_NOSUID"],
  [0x4, "MS_NODEV"],
  [0x8, "MS_NOEXEC"],
  [0x10, "MS_SYNCHRONOUS"],
  [0x20, "MS_REMOUNT"],
  [0x40, "MS_MANDLOCK"],
  [0x80, "MS_DIRSYNC"],
  [0x100, "MS_NOSYMFOLLOW"],
  [0x400, "MS_NOATIME"],
  [0x800, "MS_NODIRATIME"],
  [0x1000, "MS_BIND"],
  [0x2000, "MS_MOVE"],
  [0x4000, "MS_REC"],
  [0x8000, "MS_SILENT"],
  [0x10000, "MS_POSIXACL"],
  [0x20000, "MS_UNBINDABLE"],
  [0x40000, "MS_PRIVATE"],
  [0x80000, "MS_SLAVE"],
  [0x100000, "MS_SHARED"],
  [0x200000, "MS_RELATIME"],
  [0x800000, "MS_I_VERSION"],
  [0x1000000, "MS_STRICTATIME"],
  [0x2000000, "MS_LAZYTIME"],
]);
/** Old callers put this magic in the high 16 bits of mount(2)'s flags; the kernel drops it. */
const MS_MGC_VAL = 0xc0ed0000n;
const MS_MGC_MSK = 0xffff0000n;

const UMOUNT_FLAGS = bits([
  [1, "MNT_FORCE"],
  [2, "MNT_DETACH"],
  [4, "MNT_EXPIRE"],
  [8, "UMOUNT_NOFOLLOW"],
]);

const FSMOUNT_FLAGS = bits([[1, "FSMOUNT_CLOEXEC"]]);

const MOVE_MOUNT_FLAGS = bits([
  [0x1, "MOVE_MOUNT_F_SYMLINKS"],
  [0x2, "MOVE_MOUNT_F_AUTOMOUNTS"],
  [0x4, "MOVE_MOUNT_F_EMPTY_PATH"],
  [0x10, "MOVE_MOUNT_T_SYMLINKS"],
  [0x20, "MOVE_MOUNT_T_AUTOMOUNTS"],
  [0x40, "MOVE_MOUNT_T_EMPTY_PATH"],
  [0x100, "MOVE_MOUNT_SET_GROUP"],
  [0x200, "MOVE_MOUNT_BENEATH"],
]);

const NS = enums.vg_ns_flag;
const NS_FLAGS: readonly (readonly [bigint, Namespace])[] = (
  [
    [NS.VG_NS_MNT, "mnt"],
    [NS.VG_NS_PID, "pid"],
    [NS.VG_NS_NET, "net"],
    [NS.VG_NS_USER, "user"],
    [NS.VG_NS_UTS, "uts"],
    [NS.VG_NS_IPC, "ipc"],
    [NS.VG_NS_CGROUP, "cgroup"],
    [NS.VG_NS_TIME, "time"],
  ] as const
).map(([bit, name]) => [BigInt(bit), name] as const);
/** clone(2)'s low byte is the exit signal: 0x80 there is not CLONE_NEWTIME. */
const CLONE_SIGNAL_MASK = 0xffn;

// uapi enum bpf_prog_type, in order from 0.
const PROG_TYPES = [
  "unspec",
  "socket_filter",
  "kprobe",
  "sched_cls",
  "sched_act",
  "tracepoint",
  "xdp",
  "perf_event",
  "cgroup_skb",
  "cgroup_sock",
  "lwt_in",
  "lwt_out",
  "lwt_xmit",
  "sock_ops",
  "sk_skb",
  "cgroup_device",
  "sk_msg",
  "raw_tracepoint",
  "cgroup_sock_addr",
  "lwt_seg6local",
  "lirc_mode2",
  "sk_reuseport",
  "flow_dissector",
  "cgroup_sysctl",
  "raw_tracepoint_writable",
  "cgroup_sockopt",
  "tracing",
  "struct_ops",
  "ext",
  "lsm",
  "sk_lookup",
  "syscall",
  "netfilter",
];

// uapi enum bpf_attach_type, in order from 0.
const ATTACH_TYPES = [
  "cgroup_inet_ingress",
  "cgroup_inet_egress",
  "cgroup_inet_sock_create",
  "cgroup_sock_ops",
  "sk_skb_stream_parser",
  "sk_skb_stream_verdict",
  "cgroup_device",
  "sk_msg_verdict",
  "cgroup_inet4_bind",
  "cgroup_inet6_bind",
  "cgroup_inet4_connect",
  "cgroup_inet6_connect",
  "cgroup_inet4_post_bind",
  "cgroup_inet6_post_bind",
  "cgroup_udp4_sendmsg",
  "cgroup_udp6_sendmsg",
  "lirc_mode2",
  "flow_dissector",
  "cgroup_sysctl",
  "cgroup_udp4_recvmsg",
  "cgroup_udp6_recvmsg",
  "cgroup_getsockopt",
  "cgroup_setsockopt",
  "trace_raw_tp",
  "trace_fentry",
  "trace_fexit",
  "modify_return",
  "lsm_mac",
  "trace_iter",
  "cgroup_inet4_getpeername",
  "cgroup_inet6_getpeername",
  "cgroup_inet4_getsockname",
  "cgroup_inet6_getsockname",
  "xdp_devmap",
  "cgroup_inet_sock_release",
  "xdp_cpumap",
  "sk_lookup",
  "xdp",
  "sk_skb_verdict",
  "sk_reuseport_select",
  "sk_reuseport_select_or_migrate",
  "perf_event",
  "trace_kprobe_multi",
  "lsm_cgroup",
  "struct_ops",
  "netfilter",
  "tcx_ingress",
  "tcx_egress",
  "trace_uprobe_multi",
  "cgroup_unix_connect",
  "cgroup_unix_sendmsg",
  "cgroup_unix_recvmsg",
  "cgroup_unix_getpeername",
  "cgroup_unix_getsockname",
  "netkit_primary",
  "netkit_peer",
  "trace_kprobe_session",
  "trace_uprobe_session",
];

/** Mount options whose values are secrets (cifs, smb3 and others take passwords this way). */
const SECRET_OPTION = /^(pass|password|password2|passwd|secret)$/i;

/** mount(2) data: comma-separated options, with secret values replaced. */
export function redactMountData(data: string): string {
  if (!data.includes("=")) return data;
  return data
    .split(",")
    .map((opt) => {
      const eq = opt.indexOf("=");
      return eq > 0 && SECRET_OPTION.test(opt.slice(0, eq)) ? `${opt.slice(0, eq)}=<redacted>` : opt;
    })
    .join(",");
}

function mountFlagNames(call: string, flags: bigint): string[] {
  switch (call) {
    case "mount":
      return flagNames((flags & MS_MGC_MSK) === MS_MGC_VAL ? flags & ~MS_MGC_MSK : flags, MS_FLAGS);
    case "umount2":
      return flagNames(flags, UMOUNT_FLAGS);
    case "fsmount":
      return flagNames(flags, FSMOUNT_FLAGS);
    default:
      return flagNames(flags, MOVE_MOUNT_FLAGS);
  }
}

const nameOf = (table: readonly string[], n: number): string | null => table[n] ?? null;

export const kernelBuilders: Builders<KernelDomainRecord> = {
  "kernel.module_load": (r, base, emit) => {
    const init = r.call === "init_module";
    emit({
      kind: "kernel.module_load",
      ...base,
      module: {
        syscall: r.call,
        result: r.result,
        image_size: init ? r.imageLen : 0n,
        fd: init ? null : r.fd,
        path: init || r.path === "" ? null : r.path,
        path_truncated: r.pathTruncated,
        params: r.params,
        params_truncated: r.paramsTruncated,
        flags: r.loadFlags,
        flag_names: flagNames(BigInt(r.loadFlags), MODULE_INIT_FLAGS),
      },
    });
  },

  "kernel.bpf": (r, base, emit) => {
    const load = r.command === "prog_load";
    const attach = r.command === "prog_attach" || r.command === "link_create";
    // A load names an attach type only for the program types that need one; 0 is "none given".
    const hasAttachType = attach || (load && r.attachType !== 0);
    emit({
      kind: "kernel.bpf",
      ...base,
      bpf: {
        command: r.command,
        result: r.result,
        prog_type: load ? r.progType : null,
        prog_type_name: load ? nameOf(PROG_TYPES, r.progType) : null,
        attach_type: hasAttachType ? r.attachType : null,
        attach_type_name: hasAttachType ? nameOf(ATTACH_TYPES, r.attachType) : null,
        insn_count: load ? r.insnCnt : null,
        prog_flags: load ? r.progFlags : null,
        prog_name: load ? r.name : null,
        prog_id: r.progId !== 0 ? r.progId : null,
        prog_tag: r.progTag !== "" ? r.progTag : null,
        target_fd: attach ? r.targetFd : null,
        tracepoint: r.command === "raw_tracepoint_open" ? r.name : null,
        btf_size: r.command === "btf_load" ? r.btfSize : null,
        object_id: null,
      },
    });
  },

  "ns.change": (r, base, emit) => {
    let namespaces: Namespace[];
    if (r.call === "setns" && r.fdKind === "namespace") {
      namespaces = NS_FLAGS.filter(([bit]) => bit === BigInt(r.fdNsType)).map(([, name]) => name);
    } else {
      const flags = r.call === "clone" ? r.flags & ~CLONE_SIGNAL_MASK : r.flags;
      namespaces = NS_FLAGS.filter(([bit]) => (flags & bit) !== 0n).map(([, name]) => name);
    }
    const setns = r.call === "setns";
    emit({
      kind: "ns.change",
      ...base,
      ns: {
        syscall: r.call,
        result: r.result,
        flags: r.flags,
        namespaces,
        fd: setns ? r.fd : null,
        fd_kind: setns && r.fdKind !== "none" ? r.fdKind : null,
        ns_inum: r.fdKind === "namespace" ? r.fdNsInum : null,
      },
    });
  },

  "fs.mount": (r, base, emit) => {
    const mount = r.call === "mount";
    const fsmount = r.call === "fsmount";
    emit({
      kind: "fs.mount",
      ...base,
      mount: {
        syscall: r.call,
        result: r.result,
        target: fsmount ? null : r.target,
        target_truncated: r.targetTruncated,
        source: r.call === "umount2" ? null : r.source,
        source_truncated: r.sourceTruncated,
        fstype: r.call === "umount2" ? null : r.fstype,
        data: mount ? redactMountData(r.data) : null,
        data_truncated: r.dataTruncated,
        flags: r.flags,
        flag_names: mountFlagNames(r.call, r.flags),
        attr_flags: fsmount ? r.attrFlags : null,
        fd: fsmount || r.call === "move_mount" ? r.fd : null,
      },
    });
  },
};
