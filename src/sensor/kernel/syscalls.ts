import { existsSync } from "node:fs";
import { join } from "node:path";
import { readMounts } from "../host/index.js";
import { enums } from "./layout.generated.js";

/**
 * The kernel programs' syscall handlers (bpf/lib/syscall.h): which syscall's exit each one
 * handles, and where the dispatcher finds it, at the syscall's number on this machine's
 * architecture.
 */

/** The dispatcher and its program array (bpf/syscall.bpf.c). */
export const SYSCALL_DISPATCHER = { program: "vg_sys_exit", map: "vg_sys_exit_progs" } as const;

export interface SyscallHandler {
  program: string;
  /** The kernel's name for the syscall, as in tracefs's events/syscalls/sys_exit_<name>. */
  syscall: string;
}

/**
 * The credential syscalls, one per enum vg_cred_syscall (VG_CRED_SETUID: "setuid"): bpf/proc.bpf.c,
 * PROC_CRED_HOOKS, handles the exit of each as vg_<name>_exit.
 */
const CREDENTIAL_SYSCALLS = Object.keys(enums.vg_cred_syscall).map((name) =>
  name.replace(/^VG_CRED_/, "").toLowerCase(),
);

/** The handler of each syscall's exit, by the kernel's name for the syscall. */
const EXIT_HANDLERS: Record<string, string> = {
  // bpf/file.bpf.c
  open: "vg_file_open",
  openat: "vg_file_openat",
  openat2: "vg_file_openat2",
  creat: "vg_file_creat",
  unlink: "vg_file_unlink",
  unlinkat: "vg_file_unlinkat",
  rmdir: "vg_file_rmdir",
  rename: "vg_file_rename",
  renameat: "vg_file_renameat",
  renameat2: "vg_file_renameat2",
  chmod: "vg_file_chmod",
  fchmod: "vg_file_fchmod",
  fchmodat: "vg_file_fchmodat",
  fchmodat2: "vg_file_fchmodat2",
  chown: "vg_file_chown",
  lchown: "vg_file_lchown",
  fchown: "vg_file_fchown",
  fchownat: "vg_file_fchownat",
  link: "vg_file_link",
  linkat: "vg_file_linkat",
  symlink: "vg_file_symlink",
  symlinkat: "vg_file_symlinkat",
  mkdir: "vg_file_mkdir",
  mkdirat: "vg_file_mkdirat",
  truncate: "vg_file_truncate",
  ftruncate: "vg_file_ftruncate",
  // bpf/net.bpf.c
  connect: "vg_net_connect",
  accept: "vg_net_accept",
  accept4: "vg_net_accept4",
  bind: "vg_net_bind",
  listen: "vg_net_listen",
  sendto: "vg_net_sendto",
  sendmsg: "vg_net_sendmsg",
  sendmmsg: "vg_net_sendmmsg",
  write: "vg_net_write",
  // bpf/mem.bpf.c
  mmap: "vg_mmap",
  mprotect: "vg_mprotect",
  pkey_mprotect: "vg_pkey_mprotect",
  memfd_create: "vg_memfd_create",
  // bpf/proc.bpf.c
  ...Object.fromEntries(CREDENTIAL_SYSCALLS.map((s) => [s, `vg_${s}_exit`])),
  ptrace: "vg_ptrace",
  kill: "vg_kill",
  tkill: "vg_tkill",
  tgkill: "vg_tgkill",
  rt_sigqueueinfo: "vg_rt_sigqueueinfo",
  rt_tgsigqueueinfo: "vg_rt_tgsigqueueinfo",
  // bpf/kernel.bpf.c
  init_module: "vg_module_init",
  finit_module: "vg_module_finit",
  bpf: "vg_bpf",
  unshare: "vg_ns_unshare",
  clone: "vg_ns_clone",
  clone3: "vg_ns_clone3",
  setns: "vg_ns_setns",
  mount: "vg_mount",
  umount: "vg_umount",
  fsmount: "vg_fsmount",
  move_mount: "vg_move_mount",
};

export const SYSCALL_HANDLERS: readonly SyscallHandler[] = Object.entries(EXIT_HANDLERS).map(([syscall, program]) => ({
  program,
  syscall,
}));

/**
 * Syscall numbers by architecture (Node's process.arch) and the kernel's name for the syscall.
 * Numbers are ABI and never change once given, so a table is as good as the kernel headers, and
 * better than older headers, which lack the newest calls (Debian 12's have no fchmodat2).
 * umount is the kernel's name for the call numbered umount2.
 */
const SYSCALL_NUMBERS: Record<string, Record<string, number>> = {
  // arch/x86/entry/syscalls/syscall_64.tbl
  x64: {
    write: 1,
    open: 2,
    mmap: 9,
    mprotect: 10,
    connect: 42,
    accept: 43,
    sendto: 44,
    sendmsg: 46,
    bind: 49,
    listen: 50,
    clone: 56,
    kill: 62,
    truncate: 76,
    ftruncate: 77,
    rename: 82,
    mkdir: 83,
    rmdir: 84,
    creat: 85,
    link: 86,
    unlink: 87,
    symlink: 88,
    chmod: 90,
    fchmod: 91,
    chown: 92,
    fchown: 93,
    lchown: 94,
    ptrace: 101,
    setuid: 105,
    setgid: 106,
    setreuid: 113,
    setregid: 114,
    setresuid: 117,
    setresgid: 119,
    setfsuid: 122,
    setfsgid: 123,
    capset: 126,
    rt_sigqueueinfo: 129,
    mount: 165,
    umount: 166,
    init_module: 175,
    tkill: 200,
    tgkill: 234,
    openat: 257,
    mkdirat: 258,
    fchownat: 260,
    unlinkat: 263,
    renameat: 264,
    linkat: 265,
    symlinkat: 266,
    fchmodat: 268,
    unshare: 272,
    accept4: 288,
    rt_tgsigqueueinfo: 297,
    sendmmsg: 307,
    setns: 308,
    finit_module: 313,
    renameat2: 316,
    memfd_create: 319,
    bpf: 321,
    pkey_mprotect: 329,
    move_mount: 429,
    fsmount: 432,
    clone3: 435,
    openat2: 437,
    fchmodat2: 452,
  },
  // include/uapi/asm-generic/unistd.h: arm64 has only the *at forms of the path calls.
  arm64: {
    mkdirat: 34,
    unlinkat: 35,
    symlinkat: 36,
    linkat: 37,
    renameat: 38,
    umount: 39,
    mount: 40,
    truncate: 45,
    ftruncate: 46,
    fchmod: 52,
    fchmodat: 53,
    fchownat: 54,
    fchown: 55,
    openat: 56,
    write: 64,
    capset: 91,
    unshare: 97,
    init_module: 105,
    ptrace: 117,
    kill: 129,
    tkill: 130,
    tgkill: 131,
    rt_sigqueueinfo: 138,
    setregid: 143,
    setgid: 144,
    setreuid: 145,
    setuid: 146,
    setresuid: 147,
    setresgid: 149,
    setfsuid: 151,
    setfsgid: 152,
    bind: 200,
    listen: 201,
    accept: 202,
    connect: 203,
    sendto: 206,
    sendmsg: 211,
    clone: 220,
    mmap: 222,
    mprotect: 226,
    rt_tgsigqueueinfo: 240,
    accept4: 242,
    setns: 268,
    sendmmsg: 269,
    finit_module: 273,
    renameat2: 276,
    memfd_create: 279,
    bpf: 280,
    pkey_mprotect: 288,
    move_mount: 429,
    fsmount: 432,
    clone3: 435,
    openat2: 437,
    fchmodat2: 452,
  },
};

/** The syscall numbers of @arch, or undefined when the sensor does not know them. */
export function syscallNumbers(arch: string): Readonly<Record<string, number>> | undefined {
  return SYSCALL_NUMBERS[arch];
}

export interface PlacedHandler extends SyscallHandler {
  nr: number;
}

export interface MissingHandler extends SyscallHandler {
  error: string;
  /** errno name: ENOENT for a syscall this kernel does not have. */
  code: string;
}

/**
 * Whether this kernel has a syscall, from tracefs's events/syscalls (a sys_exit_<name> for
 * each syscall it was built with); undefined when that cannot be read (tracefs missing, or a
 * kernel without syscall tracepoints), and then every syscall counts as present.
 */
export function kernelSyscalls(
  tracefs = readMounts().find((m) => m.fsType === "tracefs")?.mountPoint,
): ((syscall: string) => boolean) | undefined {
  const dir = tracefs && join(tracefs, "events/syscalls");
  if (!dir || !existsSync(dir)) return undefined;
  return (syscall) => existsSync(join(dir, `sys_exit_${syscall}`));
}

/**
 * Where each handler goes on this machine: at its syscall's number, unless the architecture
 * has no such syscall or the kernel was built without it (init_module without module support),
 * and then it is missing, and its events cannot occur.
 */
export function placeSyscallHandlers(
  arch: string = process.arch,
  kernelHas: ReturnType<typeof kernelSyscalls> = kernelSyscalls(),
): { placed: PlacedHandler[]; missing: MissingHandler[] } {
  const numbers = syscallNumbers(arch);
  const placed: PlacedHandler[] = [];
  const missing: MissingHandler[] = [];
  for (const h of SYSCALL_HANDLERS) {
    const nr = numbers?.[h.syscall];
    if (!numbers) {
      missing.push({ ...h, error: `syscall numbers of ${arch} are not known`, code: "EOPNOTSUPP" });
    } else if (nr === undefined) {
      missing.push({ ...h, error: `${arch} has no syscall ${h.syscall}`, code: "ENOENT" });
    } else if (kernelHas && !kernelHas(h.syscall)) {
      missing.push({
        ...h,
        error: `no syscall ${h.syscall} in this kernel: tracefs has no sys_exit_${h.syscall}`,
        code: "ENOENT",
      });
    } else {
      placed.push({ ...h, nr });
    }
  }
  return { placed, missing };
}
