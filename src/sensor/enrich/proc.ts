import type { ProcRecord } from "../kernel/decode.js";
import type { CredRecord, CredSyscall } from "../kernel/records/proc.js";
import type { Builders } from "./builders.js";

// include/uapi/linux/ptrace.h and arch/x86/include/uapi/asm/ptrace-abi.h.
const PTRACE_REQUESTS = new Map<number, string>([
  [0, "PTRACE_TRACEME"],
  [1, "PTRACE_PEEKTEXT"],
  [2, "PTRACE_PEEKDATA"],
  [3, "PTRACE_PEEKUSR"],
  [4, "PTRACE_POKETEXT"],
  [5, "PTRACE_POKEDATA"],
  [6, "PTRACE_POKEUSR"],
  [7, "PTRACE_CONT"],
  [8, "PTRACE_KILL"],
  [9, "PTRACE_SINGLESTEP"],
  [12, "PTRACE_GETREGS"],
  [13, "PTRACE_SETREGS"],
  [14, "PTRACE_GETFPREGS"],
  [15, "PTRACE_SETFPREGS"],
  [16, "PTRACE_ATTACH"],
  [17, "PTRACE_DETACH"],
  [18, "PTRACE_GETFPXREGS"],
  [19, "PTRACE_SETFPXREGS"],
  [24, "PTRACE_SYSCALL"],
  [25, "PTRACE_GET_THREAD_AREA"],
  [26, "PTRACE_SET_THREAD_AREA"],
  [30, "PTRACE_ARCH_PRCTL"],
  [31, "PTRACE_SYSEMU"],
  [32, "PTRACE_SYSEMU_SINGLESTEP"],
  [33, "PTRACE_SINGLEBLOCK"],
  [0x4200, "PTRACE_SETOPTIONS"],
  [0x4201, "PTRACE_GETEVENTMSG"],
  [0x4202, "PTRACE_GETSIGINFO"],
  [0x4203, "PTRACE_SETSIGINFO"],
  [0x4204, "PTRACE_GETREGSET"],
  [0x4205, "PTRACE_SETREGSET"],
  [0x4206, "PTRACE_SEIZE"],
  [0x4207, "PTRACE_INTERRUPT"],
  [0x4208, "PTRACE_LISTEN"],
  [0x4209, "PTRACE_PEEKSIGINFO"],
  [0x420a, "PTRACE_GETSIGMASK"],
  [0x420b, "PTRACE_SETSIGMASK"],
  [0x420c, "PTRACE_SECCOMP_GET_FILTER"],
  [0x420d, "PTRACE_SECCOMP_GET_METADATA"],
  [0x420e, "PTRACE_GET_SYSCALL_INFO"],
  [0x420f, "PTRACE_GET_RSEQ_CONFIGURATION"],
  [0x4210, "PTRACE_SET_SYSCALL_USER_DISPATCH_CONFIG"],
  [0x4211, "PTRACE_GET_SYSCALL_USER_DISPATCH_CONFIG"],
  [0x4212, "PTRACE_SET_SYSCALL_INFO"],
]);
const PTRACE_TRACEME = 0;

export function ptraceRequestName(request: number): string {
  return PTRACE_REQUESTS.get(request) ?? `PTRACE_${request}`;
}

// Linux's numbering (x86, arm64, riscv); real-time signals counted from the kernel's SIGRTMIN, 32.
const SIGNALS = [
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGILL",
  "SIGTRAP",
  "SIGABRT",
  "SIGBUS",
  "SIGFPE",
  "SIGKILL",
  "SIGUSR1",
  "SIGSEGV",
  "SIGUSR2",
  "SIGPIPE",
  "SIGALRM",
  "SIGTERM",
  "SIGSTKFLT",
  "SIGCHLD",
  "SIGCONT",
  "SIGSTOP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGURG",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGVTALRM",
  "SIGPROF",
  "SIGWINCH",
  "SIGIO",
  "SIGPWR",
  "SIGSYS",
];
const SIGRTMIN = 32;
const SIGRTMAX = 64;

export function signalName(sig: number): string | null {
  if (sig >= 1 && sig <= SIGNALS.length) return SIGNALS[sig - 1] ?? null;
  if (sig === SIGRTMIN) return "SIGRTMIN";
  if (sig > SIGRTMIN && sig <= SIGRTMAX) return `SIGRTMIN+${sig - SIGRTMIN}`;
  return null;
}

/** The names of each credential syscall's id arguments, in order. */
const ID_ARGS: Record<Exclude<CredSyscall, "capset">, readonly string[]> = {
  setuid: ["uid"],
  setgid: ["gid"],
  setreuid: ["ruid", "euid"],
  setregid: ["rgid", "egid"],
  setresuid: ["ruid", "euid", "suid"],
  setresgid: ["rgid", "egid", "sgid"],
  setfsuid: ["fsuid"],
  setfsgid: ["fsgid"],
};
/** (uid_t)-1: leave the id unchanged. */
const UNCHANGED = 0xffffffff;

function credOf(c: CredRecord) {
  return {
    uid: c.uid,
    euid: c.euid,
    suid: c.suid,
    fsuid: c.fsuid,
    gid: c.gid,
    egid: c.egid,
    sgid: c.sgid,
    fsgid: c.fsgid,
    cap_effective: c.capEffective,
    cap_permitted: c.capPermitted,
    cap_inheritable: c.capInheritable,
  };
}

export const procBuilders: Builders<ProcRecord> = {
  "cred.change": (r, base, emit) => {
    let requested: Record<string, number | bigint | null>;
    if (r.syscall === "capset") {
      const [cap_effective, cap_permitted, cap_inheritable] = r.caps;
      requested = { cap_effective, cap_permitted, cap_inheritable };
    } else {
      requested = {};
      ID_ARGS[r.syscall].forEach((name, i) => {
        const id = r.ids[i] ?? UNCHANGED;
        requested[name] = id === UNCHANGED ? null : id;
      });
    }
    emit({
      kind: "cred.change",
      ...base,
      cred: { syscall: r.syscall, requested, old: credOf(r.old), new: credOf(r.new), result: r.result },
    });
  },
  "proc.ptrace": (r, base, emit) => {
    emit({
      kind: "proc.ptrace",
      ...base,
      ptrace: {
        request: r.request,
        request_name: ptraceRequestName(r.request),
        target_pid: r.request === PTRACE_TRACEME ? null : r.target,
        addr: r.addr,
        data: r.data,
        result: r.result,
      },
    });
  },
  "proc.signal": (r, base, emit) => {
    const byPid = r.syscall !== "tkill";
    const byTid = r.syscall === "tkill" || r.syscall === "tgkill" || r.syscall === "rt_tgsigqueueinfo";
    emit({
      kind: "proc.signal",
      ...base,
      signal: {
        syscall: r.syscall,
        number: r.signal,
        name: signalName(r.signal),
        target_pid: byPid ? r.targetPid : null,
        target_tid: byTid ? r.targetTid : null,
        result: r.result,
      },
    });
  },
};
