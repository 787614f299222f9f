import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { join } from "node:path";
import { bpfObjectDir } from "../../paths.js";
import { cgroup2MountPoint, effectiveCapabilities, kernelVersionProblem, readMounts } from "../host/index.js";
import type { BridgeError, KernelBridge } from "./bridge.js";
import { ensureFilesystems, type MountOutcome } from "./mounts.js";

/**
 * The sensor's object comes in two builds (bpf/Makefile): plain loads through bpf_rdonly_cast
 * (Linux 6.2 and later), and one reading each kernel field with a probe read for older kernels
 * (Debian 12 ships 6.1). VIGIL_BPF_OBJECT names one of them to force it.
 */
export const SENSOR_OBJECTS = { plain: "vigil.bpf.o", compat: "vigil-compat.bpf.o" } as const;

/** The object for this kernel: whether its BTF has the kfunc, found by its name in the strings. */
export function sensorObject(btf = "/sys/kernel/btf/vmlinux"): string {
  const forced = process.env.VIGIL_BPF_OBJECT;
  if (forced) return forced;
  try {
    return readFileSync(btf).includes("\0bpf_rdonly_cast\0") ? SENSOR_OBJECTS.plain : SENSOR_OBJECTS.compat;
  } catch {
    return SENSOR_OBJECTS.compat;
  }
}

export type CheckStatus = "ok" | "warn" | "fail";

export interface Check {
  name: string;
  status: CheckStatus;
  value: string;
  detail?: string;
}

/** Ways the sensor can stop an operation, strongest first. */
export type EnforcementPath = "lsm" | "fanotify" | "cgroup_sock" | "kill_at_exec";

export interface ProgramTypeProbe {
  program: string;
  loads: boolean;
  /** Whether it attached; absent when attaching was not tried. */
  attaches?: boolean;
  error?: string;
  /** libbpf's log of the failure (the verifier's among it). */
  log?: string[];
}

export interface PreflightReport {
  canRun: boolean;
  kernelRelease: string;
  /** The sensor's BPF object for this kernel, in bpfObjectDir (see sensorObject). */
  object: string;
  enforcement: EnforcementPath[];
  checks: Check[];
  programs: Record<string, ProgramTypeProbe>;
  mounts: MountOutcome[];
}

/** One program each from bpf/probe.bpf.c; `attach` says whether attaching is harmless enough to try. */
const PROBES: { name: string; program: string; attach: boolean }[] = [
  { name: "tp_btf", program: "probe_tp_btf", attach: true },
  { name: "raw_tracepoint", program: "probe_raw_tp", attach: true },
  { name: "tracepoint", program: "probe_tracepoint", attach: true },
  { name: "lsm", program: "probe_lsm", attach: true },
  { name: "fentry", program: "probe_fentry", attach: true },
  { name: "kprobe", program: "probe_kprobe", attach: true },
  // Attaching to a cgroup would touch every socket on the host; loading says enough.
  { name: "cgroup_sock_addr", program: "probe_cgroup_connect4", attach: false },
  { name: "cgroup_sock", program: "probe_cgroup_sock_create", attach: false },
  { name: "send_signal", program: "probe_send_signal", attach: false },
];

const FAN_CLASS_CONTENT = 0x4;
const FAN_CLOEXEC = 0x1;
const O_RDONLY = 0;

/** The first line of a bridge error; the lines after it are libbpf's log, kept apart. */
function errText(err: unknown): string {
  const e = err as Partial<BridgeError>;
  const first = String(e.message ?? err).split("\n")[0] ?? "";
  return e.code ? `${e.code}: ${first}` : first;
}

function errLog(err: unknown): string[] {
  return String((err as Error).message ?? "")
    .split("\n")
    .slice(1)
    .filter(Boolean);
}

function probeProgram(bridge: KernelBridge, objectPath: string, probe: (typeof PROBES)[number]): ProgramTypeProbe {
  let obj: ReturnType<KernelBridge["openObject"]> | undefined;
  try {
    obj = bridge.openObject(objectPath);
    for (const p of obj.programs()) obj.setAutoload(p, p === probe.program);
    obj.load();
  } catch (err) {
    obj?.close();
    bridge.drainLog();
    return { program: probe.program, loads: false, error: errText(err), log: errLog(err) };
  }
  try {
    if (!probe.attach) return { program: probe.program, loads: true };
    obj.detach(obj.attach(probe.program));
    return { program: probe.program, loads: true, attaches: true };
  } catch (err) {
    return { program: probe.program, loads: true, attaches: false, error: errText(err), log: errLog(err) };
  } finally {
    obj.close();
    bridge.drainLog();
  }
}

const readText = (path: string) => {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return undefined;
  }
};

const usable = (p: ProgramTypeProbe | undefined) => !!p?.loads && p.attaches !== false;

/**
 * What this kernel offers the sensor: whether it can run at all, and which enforcement paths it
 * can really deliver. Mounts tracefs, bpffs and securityfs when they are missing.
 */
export function preflight(bridge: KernelBridge): PreflightReport {
  const checks: Check[] = [];
  const kernelRelease = release();
  const versionProblem = kernelVersionProblem(kernelRelease);
  checks.push({
    name: "kernel",
    status: versionProblem ? "fail" : "ok",
    value: kernelRelease,
    ...(versionProblem && { detail: versionProblem }),
  });

  const caps = effectiveCapabilities();
  const euid = process.geteuid?.() ?? -1;
  const privileged = caps.has("SYS_ADMIN") || (caps.has("BPF") && caps.has("PERFMON"));
  checks.push({
    name: "privileges",
    status: privileged ? "ok" : "fail",
    value: `euid ${euid}; ${[...caps].sort().join(",") || "no capabilities"}`,
    ...(!privileged && { detail: "needs CAP_SYS_ADMIN, or CAP_BPF with CAP_PERFMON (run as root)" }),
  });

  const btf = existsSync("/sys/kernel/btf/vmlinux");
  checks.push({
    name: "btf",
    status: btf ? "ok" : "fail",
    value: btf ? "/sys/kernel/btf/vmlinux" : "missing",
    ...(!btf && { detail: "the kernel must be built with CONFIG_DEBUG_INFO_BTF" }),
  });

  const object = btf ? sensorObject() : SENSOR_OBJECTS.plain;
  checks.push({
    name: "kernel reads",
    status: "ok",
    value:
      object === SENSOR_OBJECTS.plain
        ? `plain loads (${object})`
        : `a probe read per field: no bpf_rdonly_cast before Linux 6.2 (${object})`,
  });

  const mounts = privileged ? ensureFilesystems(bridge) : [];
  for (const m of mounts) {
    checks.push({
      name: m.fsType,
      status: m.state === "failed" ? "warn" : "ok",
      value: m.state === "mounted" ? `${m.target} (mounted by vigil)` : m.target,
      ...(m.error && { detail: m.error }),
    });
  }

  const programs: Record<string, ProgramTypeProbe> = {};
  const probeObject = join(bpfObjectDir, "probe.bpf.o");
  if (privileged && existsSync(probeObject)) {
    for (const probe of PROBES) {
      const result = probeProgram(bridge, probeObject, probe);
      programs[probe.name] = result;
      const required = probe.name === "tp_btf";
      checks.push({
        name: `program ${probe.name}`,
        status: usable(result) ? "ok" : required ? "fail" : "warn",
        value: usable(result)
          ? result.attaches
            ? "loads, attaches"
            : "loads"
          : result.loads
            ? "loads, does not attach"
            : "refused",
        ...(result.error && { detail: result.error }),
      });
    }
  } else {
    checks.push({
      name: "programs",
      status: "fail",
      value: "not probed",
      detail: privileged ? `missing ${probeObject}` : "needs privileges",
    });
  }

  const lsms = readText("/sys/kernel/security/lsm");
  checks.push({
    name: "active lsms",
    status: lsms?.split(",").includes("bpf") ? "ok" : "warn",
    value: lsms ?? "unknown (securityfs not mounted)",
    ...(lsms &&
      !lsms.split(",").includes("bpf") && { detail: "bpf is not in the active LSM list (lsm= boot parameter)" }),
  });

  const lockdown = readText("/sys/kernel/security/lockdown");
  const lockMode = lockdown ? (/\[(\w+)\]/.exec(lockdown)?.[1] ?? lockdown) : "unknown";
  checks.push({
    name: "lockdown",
    status: lockMode === "confidentiality" ? "fail" : lockMode === "none" || lockMode === "unknown" ? "ok" : "warn",
    value: lockMode,
    ...(lockMode === "confidentiality" && {
      detail: "lockdown=confidentiality forbids reading kernel memory from BPF",
    }),
  });

  const paranoid = readText("/proc/sys/kernel/perf_event_paranoid") ?? "unknown";
  checks.push({ name: "perf_event_paranoid", status: "ok", value: paranoid });

  const cgroup2 = cgroup2MountPoint(readMounts());
  checks.push({
    name: "cgroup v2",
    status: cgroup2 ? "ok" : "warn",
    value: cgroup2 ? (cgroup2 === "/sys/fs/cgroup" ? cgroup2 : `${cgroup2} (hybrid)`) : "not mounted",
  });

  const fan = privileged ? bridge.probeFanotify(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY) : -1;
  checks.push({
    name: "fanotify",
    status: fan === 0 ? "ok" : "warn",
    value: fan === 0 ? "permission events" : `unavailable (errno ${fan})`,
  });

  const enforcement: EnforcementPath[] = [];
  if (usable(programs.lsm) && lsms?.split(",").includes("bpf")) enforcement.push("lsm");
  if (fan === 0) enforcement.push("fanotify");
  if (cgroup2 && programs.cgroup_sock_addr?.loads) enforcement.push("cgroup_sock");
  if (programs.send_signal?.loads && usable(programs.tp_btf)) enforcement.push("kill_at_exec");

  return {
    canRun: !checks.some((c) => c.status === "fail"),
    kernelRelease,
    object,
    enforcement,
    checks,
    programs,
    mounts,
  };
}
