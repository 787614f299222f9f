import type { Alert, Outcome } from "../../events/alert.js";
import type { EventBase, VigilEvent } from "../../events/schema.js";
import type { Logger } from "../../log.js";
import type { BpfObject, BridgeError, FanotifyStats } from "../kernel/bridge.js";
import type { EnforcementPath } from "../kernel/preflight.js";
import type { DenialRecord } from "../kernel/records/index.js";
import type { CompiledRule, Mode, PolicyEngine, PolicySet } from "../policy/index.js";
import type { FanotifyEnforcer } from "./fanotify.js";
import { fileIdentities } from "./identity.js";
import { EnforcementMaps } from "./maps.js";
import {
  type EnforcementPlan,
  type FileIdentity,
  type HookName,
  mapEntries,
  outcomeOf,
  planEnforcement,
  type RuleEnforcement,
} from "./plan.js";
import { protectedFiles, SelfWatch, writeProtection } from "./protect.js";

export { type RuleEnforcement, type RulePath, routesHere } from "./plan.js";
export { protectionInterest } from "./protect.js";

/**
 * The enforcement stage: decides, for every deny and kill rule, which path stops it on this
 * host (plan.ts), compiles the rules decided in the kernel into its maps on every policy swap
 * (maps.ts), attaches the programs that decide, turns the kernel's records of what it stopped
 * into alerts, and kills the processes of rules that can only be enforced after the fact.
 */

export interface EnforcementOptions {
  logger: Logger;
  /** What preflight found this host offers. */
  paths: readonly EnforcementPath[];
  /** The mode every policy runs in, when the sensor was told one. */
  mode?: Mode;
  /** The root of the cgroup v2 hierarchy the socket programs attach to. */
  cgroupRoot?: string;
  /** Never killed: this process. */
  ownPid?: number;
  /**
   * Refuse other processes' signals, ptrace, writes to the installation and fds of the sensor's
   * BPF objects (with BPF-LSM); elsewhere such attempts are alerted (protect.ts).
   */
  protectSelf?: boolean;
  /** The sensor's files and directories to protect: its installation, its policies. */
  protectRoots?: string[];
  /** Opens the fanotify path's guard where preflight found fanotify (the kernel bridge's). */
  openFanotify?: (logger: Logger) => FanotifyEnforcer;
}

export interface SelfProtectionReport {
  /** refused: BPF-LSM refuses attempts; alerted: only attempts seen as events are alerted. */
  mode: "refused" | "alerted";
  /** Files and directories protected (refused mode). */
  files: number;
  roots: string[];
  /** Attempts refused, or alerted. */
  attempts: number;
}

/** A program the stage tried to attach, and how it went. */
export interface HookAttachment {
  program: string;
  /** Where: a tracepoint, an LSM hook, a cgroup. */
  target: string;
  attached: boolean;
  error?: string;
}

export interface EnforcementReport {
  /** The mode forced on every policy, if any. */
  mode?: Mode;
  /** Paths the host offers (preflight) and the ones with programs attached. */
  available: EnforcementPath[];
  inUse: EnforcementPath[];
  programs: HookAttachment[];
  /** Every deny and kill rule on every kind it is on. */
  rules: (RuleEnforcement & { enforced: number })[];
  /** The generation of the kernel's tables in force. */
  generation: number;
  /** Executables named by exact path that were not found (matched by path until they exist). */
  missing: string[];
  /** Records of stops whose rule the agent no longer knows. */
  unknownDenials: number;
  /** With --protect-self. */
  selfProtection?: SelfProtectionReport;
  /** The fanotify thread's counters and the files it marks. */
  fanotify?: FanotifyStats & { marks: string[] };
}

/** The programs of each path: [program, what it attaches to]. */
const PROGRAMS: Record<"lsm" | "lsm_net" | "kill_at_exec" | "cgroup_sock" | "protect", [string, string][]> = {
  lsm: [
    ["vg_enforce_lsm_exec", "lsm/bprm_check_security"],
    ["vg_enforce_lsm_mmap", "lsm/mmap_file"],
    ["vg_enforce_lsm_open", "lsm/file_open"],
    ["vg_enforce_lsm_unlink", "lsm/path_unlink"],
    ["vg_enforce_lsm_rename", "lsm/path_rename"],
    ["vg_enforce_lsm_chmod", "lsm/path_chmod"],
    ["vg_enforce_lsm_module_file", "lsm/kernel_read_file"],
    ["vg_enforce_lsm_module_data", "lsm/kernel_load_data"],
  ],
  protect: [
    ["vg_enforce_protect_signal", "lsm/task_kill"],
    ["vg_enforce_protect_ptrace", "lsm/ptrace_access_check"],
    ["vg_enforce_protect_map", "lsm/bpf_map"],
    ["vg_enforce_protect_prog", "lsm/bpf_prog"],
    ["vg_enforce_protect_bpf", "lsm/bpf"],
  ],
  lsm_net: [
    ["vg_enforce_lsm_connect", "lsm/socket_connect"],
    ["vg_enforce_lsm_bind", "lsm/socket_bind"],
  ],
  kill_at_exec: [["vg_enforce_exec", "tp_btf/sched_process_exec"]],
  cgroup_sock: [
    ["vg_enforce_connect4", "cgroup/connect4"],
    ["vg_enforce_connect6", "cgroup/connect6"],
    ["vg_enforce_sendmsg4", "cgroup/sendmsg4"],
    ["vg_enforce_sendmsg6", "cgroup/sendmsg6"],
    ["vg_enforce_bind4", "cgroup/bind4"],
    ["vg_enforce_bind6", "cgroup/bind6"],
  ],
};

/** Generations whose slots are remembered: a record may arrive after the next swap. */
const KEPT_GENERATIONS = 4;

const EPERM = 1;
const PROTOCOLS: Record<number, [string, string]> = { 6: ["tcp", "stream"], 17: ["udp", "dgram"] };

export class Enforcement {
  private plan: EnforcementPlan = { rules: [], hooks: [], fanotify: [] };
  private byRuleKind = new Map<string, RuleEnforcement>();
  private maps: EnforcementMaps | undefined;
  private readonly generations = new Map<number, Map<HookName, EnforcementPlan["hooks"][number]["slots"]>>();
  private readonly programs: HookAttachment[] = [];
  private readonly enforced = new Map<string, number>();
  private missing: string[] = [];
  private unknownDenials = 0;
  private selfProtection: SelfProtectionReport | undefined;
  private selfWatch: SelfWatch | undefined;
  private fanotify: FanotifyEnforcer | undefined;
  private readonly fanotifyGenerations: Map<string, EnforcementPlan["fanotify"][number]["slots"]>[] = [];
  private readonly paths: Set<EnforcementPath>;

  constructor(private readonly options: EnforcementOptions) {
    this.paths = new Set(options.paths);
    // Without cgroup v2 there is nothing to attach the socket programs to.
    if (!options.cgroupRoot) this.paths.delete("cgroup_sock");
  }

  /** Whether the event source should load a program of this stage: only those this host can run. */
  readonly loads = (program: string): boolean => {
    const protect = this.paths.has("lsm") && this.options.protectSelf ? PROGRAMS.protect : [];
    return [...this.wantedPrograms(), ...protect].some(([p]) => p === program);
  };

  private wantedPrograms(): [string, string][] {
    const out: [string, string][] = [];
    if (this.paths.has("lsm")) out.push(...PROGRAMS.lsm);
    else if (this.paths.has("kill_at_exec")) out.push(...PROGRAMS.kill_at_exec);

    if (this.paths.has("cgroup_sock")) out.push(...PROGRAMS.cgroup_sock);
    else if (this.paths.has("lsm")) out.push(...PROGRAMS.lsm_net);
    return out;
  }

  /**
   * Attaches the programs of the paths this host offers; a program that does not attach is
   * reported and its path dropped (its rules fall back to killing after the fact).
   */
  attach(obj: BpfObject): void {
    const { logger, cgroupRoot } = this.options;
    this.maps = new EnforcementMaps(obj);
    if (this.options.protectSelf) this.protect(obj);
    if (this.paths.has("fanotify")) {
      const target = "fanotify permission events (a native thread)";
      try {
        if (!this.options.openFanotify) throw new Error("no fanotify guard can be opened here");
        this.fanotify = this.options.openFanotify(logger);
        this.programs.push({ program: "fanotify", target, attached: true });
      } catch (err) {
        const error = String((err as Error).message ?? err).split("\n")[0];
        this.programs.push({ program: "fanotify", target, attached: false, error });
        logger.warn({ err: error }, "fanotify guard did not start; its rules are enforced otherwise");
        this.paths.delete("fanotify");
      }
    }
    for (const [program, target] of this.wantedPrograms()) {
      const cgroup = target.startsWith("cgroup/");
      try {
        if (cgroup) obj.attachCgroup(program, cgroupRoot as string);
        else obj.attach(program);
        this.programs.push({ program, target: cgroup ? `${target} on ${cgroupRoot}` : target, attached: true });
      } catch (err) {
        const e = err as Partial<BridgeError>;
        const error = `${e.code ? `${e.code}: ` : ""}${String(e.message ?? err).split("\n")[0]}`;
        this.programs.push({ program, target, attached: false, error });
        logger.warn(
          { program, target, err: error },
          "enforcement program did not attach; its rules are killed after the fact",
        );
        this.paths.delete(target.startsWith("lsm/") ? "lsm" : cgroup ? "cgroup_sock" : "kill_at_exec");
      }
    }
  }

  /**
   * Self-protection: with BPF-LSM its programs refuse what other processes try on the sensor;
   * without, or when they do not attach, the attempts seen as events are alerted.
   */
  private protect(obj: BpfObject): void {
    const { logger } = this.options;
    const roots = this.options.protectRoots ?? [];
    const pid = this.options.ownPid ?? process.pid;
    let refused = this.paths.has("lsm");
    const links: number[] = [];
    if (refused) {
      try {
        const { files: identities, count, cut } = protectedFiles(roots);
        if (cut) logger.warn({ roots, files: count }, "too many files to protect: the first ones are");
        for (const [program, target] of PROGRAMS.protect) {
          links.push(obj.attach(program));
          this.programs.push({ program, target, attached: true });
        }
        const files = writeProtection(obj, pid, identities);
        this.selfProtection = { mode: "refused", files, roots: [...roots], attempts: 0 };
      } catch (err) {
        for (const link of links) obj.detach(link);
        logger.warn({ err: (err as Error).message.split("\n")[0] }, "self-protection programs did not attach");
        refused = false;
      }
    }
    if (!refused) {
      this.selfWatch = new SelfWatch(pid, roots);
      this.selfProtection = { mode: "alerted", files: 0, roots: [...roots], attempts: 0 };
    }
    logger.info(
      { mode: this.selfProtection?.mode, roots, files: this.selfProtection?.files },
      refused
        ? "self-protection: other processes' signals, ptrace, writes to the sensor's files and fds of its BPF objects are refused"
        : "self-protection: nothing can refuse attempts against the sensor here (no BPF-LSM), they are alerted",
    );
  }

  /**
   * The alerts of what the fanotify thread stopped, and of the events it let through because it
   * could not decide in time, since the last call. `baseOf` gives a pid's event base.
   */
  fanotifyAlerts(baseOf: (pid: number, now: bigint) => EventBase, now: bigint): Alert[] {
    if (!this.fanotify) return [];
    const alerts: Alert[] = [];
    const slots = this.fanotifyGenerations[this.fanotifyGenerations.length - 1];
    for (const d of this.fanotify.take()) {
      const base = baseOf(d.pid, now);
      const record = {
        hook: d.hook,
        path: d.path,
        dev: d.dev,
        ino: d.ino,
        mode: 0,
        newPath: "",
        task: { tid: d.pid },
      } as unknown as DenialRecord;
      if (d.slot < 0) {
        alerts.push({
          kind: "alert",
          time: now,
          rule: { id: "fanotify-deadline", policy: "vigil", severity: "high", tags: [] },
          message: `the fanotify thread did not decide in time: ${d.path} was let through (${d.hook})`,
          action: "alert",
          outcome: "failed",
          container: base.container,
          k8s: base.k8s,
          events: [eventOf(record, base)],
        });
        continue;
      }
      const slot = slots?.get(d.hook)?.[d.slot];
      if (!slot) {
        this.unknownDenials++;
        continue;
      }
      const event = eventOf(record, base);
      const key = `${slot.rule.policy}\0${slot.rule.id}\0${slot.kind}`;
      this.enforced.set(key, (this.enforced.get(key) ?? 0) + 1);
      alerts.push({
        kind: "alert",
        time: now,
        rule: { id: slot.rule.id, policy: slot.rule.policy, severity: slot.rule.severity, tags: [...slot.rule.tags] },
        message: slot.rule.message(event),
        action: slot.rule.action,
        outcome: "prevented",
        container: event.container,
        k8s: event.k8s,
        events: [event],
      });
    }
    return alerts;
  }

  /** The fanotify guard, for its counters and for tests of its deadline. */
  get fanotifyGuard(): FanotifyEnforcer | undefined {
    return this.fanotify;
  }

  /** Stops the fanotify thread: the kernel lets through whatever waits on it. */
  close(): void {
    this.fanotify?.close();
    this.fanotify = undefined;
  }

  /** An alert when `event` is an attempt against the sensor that nothing refused. */
  watch(event: VigilEvent): Alert | undefined {
    const alert = this.selfWatch?.check(event);
    if (alert && this.selfProtection) this.selfProtection.attempts++;
    return alert;
  }

  /** Paths with programs attached (what get-statistics and the log call in use). */
  get inUse(): EnforcementPath[] {
    const order: EnforcementPath[] = ["lsm", "fanotify", "cgroup_sock", "kill_at_exec"];
    return order.filter((p) => this.programs.some((a) => a.attached && pathOf(a.target) === p));
  }

  /**
   * Follows the engine's policies: plans and writes the kernel's tables before each swap, and
   * decides each rule's outcome; the set in force is planned now.
   */
  follow(engine: PolicyEngine): void {
    engine.onSwap({ before: (set) => this.apply(set) });
    engine.decideOutcomes((rule, kind) =>
      outcomeOf(this.byRuleKind.get(`${rule.policy}\0${rule.id}\0${kind}`), rule.action),
    );
  }

  /** Plans a set and, once attached, writes it into the kernel. */
  apply(set: PolicySet): void {
    const modes = new Map<CompiledRule, Mode>();
    for (const p of set.policies) for (const r of p.rules) modes.set(r, p.mode);
    const plan = planEnforcement(set.rules, modes, {
      paths: [...this.paths],
      ...(this.options.mode && { mode: this.options.mode }),
    });
    const missing: string[] = [];
    const identify = (path: string): FileIdentity[] => {
      const ids = fileIdentities(path);
      if (ids.length === 0) missing.push(path);
      return ids;
    };
    // fanotify's marks are added before the kernel's tables lose a rule moving to it.
    if (this.fanotify) {
      this.fanotify.apply(plan.fanotify, identify);
      this.fanotifyGenerations.push(new Map(plan.fanotify.map((h) => [h.hook, h.slots])));
      if (this.fanotifyGenerations.length > KEPT_GENERATIONS) this.fanotifyGenerations.shift();
    }
    if (this.maps) {
      const seq = this.maps.write(plan.hooks, mapEntries(plan.hooks, identify));
      this.generations.set(seq, new Map(plan.hooks.map((h) => [h.hook, h.slots])));
      for (const old of this.generations.keys()) if (old <= seq - KEPT_GENERATIONS) this.generations.delete(old);
      this.options.logger.info(
        {
          generation: seq,
          hooks: Object.fromEntries(plan.hooks.map((h) => [h.hook, { slots: h.slots.length, tests: h.atoms.length }])),
        },
        "enforcement tables in force",
      );
    }
    this.plan = plan;
    this.missing = [...new Set(missing)];
    this.byRuleKind = new Map(plan.rules.map((r) => [`${r.policy}\0${r.rule}\0${r.kind}`, r]));
  }

  /** The alert of a stop the kernel made; undefined when its rule is no longer known. */
  alertOf(record: DenialRecord, base: EventBase, now: bigint): Alert | undefined {
    if (record.action === "protected") {
      if (this.selfProtection) this.selfProtection.attempts++;
      return protectionAlert(record, base, now);
    }
    const slot = this.generations.get(record.seq)?.get(record.hook)?.[record.slot];
    if (!slot) {
      this.unknownDenials++;
      this.options.logger.warn(
        { seq: record.seq, hook: record.hook, slot: record.slot },
        "the kernel stopped an operation for a rule no longer known",
      );
      return undefined;
    }
    const { rule } = slot;
    const event = eventOf(record, base);
    let outcome: Outcome = record.action === "killed" ? "killed" : "prevented";
    // A kill rule decided where the call is only refused: the caller is killed now.
    if (record.action === "denied" && rule.action === "kill" && this.kill(record.task.pid)) outcome = "killed";
    const key = `${rule.policy}\0${rule.id}\0${slot.kind}`;
    this.enforced.set(key, (this.enforced.get(key) ?? 0) + 1);
    return {
      kind: "alert",
      time: now,
      rule: { id: rule.id, policy: rule.policy, severity: rule.severity, tags: [...rule.tags] },
      message: rule.message(event),
      action: rule.action,
      outcome,
      container: event.container,
      k8s: event.k8s,
      events: [event],
    };
  }

  /**
   * Acts on an alert the engine raised: a rule enforced after the fact kills the process now;
   * when that fails (it is gone, or it is this sensor) the outcome says so.
   */
  act(alert: Alert): void {
    if (alert.outcome !== "killed_after") return;
    const event = alert.events[alert.events.length - 1];
    const pid = event?.process?.pid;
    if (pid === undefined || !this.kill(pid)) {
      alert.outcome = "failed";
      return;
    }
    const key = `${alert.rule.policy}\0${alert.rule.id}\0${event?.kind}`;
    this.enforced.set(key, (this.enforced.get(key) ?? 0) + 1);
  }

  private kill(pid: number): boolean {
    if (pid <= 1 || pid === (this.options.ownPid ?? process.pid)) return false;
    try {
      process.kill(pid, "SIGKILL");
      return true;
    } catch {
      return false;
    }
  }

  report(): EnforcementReport {
    return {
      ...(this.options.mode && { mode: this.options.mode }),
      available: [...this.options.paths],
      inUse: this.inUse,
      programs: this.programs.map((p) => ({ ...p })),
      rules: this.plan.rules.map((r) => ({
        ...r,
        enforced: this.enforced.get(`${r.policy}\0${r.rule}\0${r.kind}`) ?? 0,
      })),
      generation: this.maps?.seq ?? 0,
      missing: [...this.missing],
      unknownDenials: this.unknownDenials,
      ...(this.selfProtection && { selfProtection: { ...this.selfProtection } }),
      ...(this.fanotify && { fanotify: { ...this.fanotify.stats(), marks: this.fanotify.marks } }),
    };
  }
}

function pathOf(target: string): EnforcementPath {
  if (target.startsWith("lsm/")) return "lsm";
  if (target.startsWith("fanotify")) return "fanotify";
  if (target.startsWith("cgroup/")) return "cgroup_sock";
  return "kill_at_exec";
}

const PROTECT_RULE = {
  id: "self-protection",
  policy: "vigil",
  severity: "high" as const,
  tags: ["attack.T1562.001", "defense-evasion"],
};

const PROTECT_MESSAGES: Record<string, (r: DenialRecord, e: VigilEvent) => string> = {
  signal: (r, e) => `${e.process.exe} sent signal ${r.arg} to the sensor (pid ${r.target})`,
  ptrace: (r, e) => `${e.process.exe} tried to trace the sensor (pid ${r.target})`,
  bpf: (r, e) => `${e.process.exe} asked for the sensor's BPF ${BPF_KINDS[r.arg] ?? "object"} ${r.target}`,
  write: (r, e) => `${e.process.exe} opened the sensor's ${r.path} for writing`,
  unlink: (r, e) => `${e.process.exe} tried to remove the sensor's ${r.path}`,
  rename: (r, e) => `${e.process.exe} tried to rename the sensor's ${r.path || r.newPath}`,
  chmod: (r, e) => `${e.process.exe} tried to chmod the sensor's ${r.path}`,
};
const BPF_KINDS: Record<number, string> = { 1: "map", 2: "program", 3: "link" };

/** The alert of something self-protection refused. */
export function protectionAlert(r: DenialRecord, base: EventBase, now: bigint): Alert {
  const event = protectionEvent(r, base);
  return {
    kind: "alert",
    time: now,
    rule: { ...PROTECT_RULE, tags: [...PROTECT_RULE.tags] },
    message: (PROTECT_MESSAGES[r.protect ?? ""] ?? (() => "the sensor refused an operation on itself"))(r, event),
    action: "deny",
    outcome: "prevented",
    container: event.container,
    k8s: event.k8s,
    events: [event],
  };
}

function protectionEvent(r: DenialRecord, base: EventBase): VigilEvent {
  switch (r.protect) {
    case "signal":
      return {
        kind: "proc.signal",
        ...base,
        signal: {
          syscall: "kill",
          number: r.arg,
          name: SIGNALS[r.arg] ?? null,
          target_pid: r.target,
          target_tid: null,
          result: -EPERM,
        },
      } as VigilEvent;
    case "ptrace":
      return {
        kind: "proc.ptrace",
        ...base,
        ptrace: {
          request: -1,
          request_name: "ptrace_access_check",
          target_pid: r.target,
          addr: 0n,
          data: 0n,
          result: -EPERM,
        },
      } as VigilEvent;
    case "bpf":
      return {
        kind: "kernel.bpf",
        ...base,
        bpf: {
          command: BPF_COMMANDS[r.arg] ?? "map_get_fd_by_id",
          result: -EPERM,
          prog_type: null,
          prog_type_name: null,
          attach_type: null,
          attach_type_name: null,
          insn_count: null,
          prog_flags: null,
          prog_name: null,
          prog_id: null,
          prog_tag: null,
          target_fd: null,
          tracepoint: null,
          btf_size: null,
          object_id: r.target,
        },
      } as VigilEvent;
    default:
      return eventOf({ ...r, hook: r.protect === "write" ? "open" : (r.protect as DenialRecord["hook"]) }, base);
  }
}
const SIGNALS: Record<number, string> = { 1: "SIGHUP", 2: "SIGINT", 9: "SIGKILL", 15: "SIGTERM", 19: "SIGSTOP" };
const BPF_COMMANDS: Record<number, string> = {
  1: "map_get_fd_by_id",
  2: "prog_get_fd_by_id",
  3: "link_get_fd_by_id",
};

const O_WRONLY = 1;
const O_RDWR = 2;
const FMODE_READ = 1;
const FMODE_WRITE = 2;

/** The event of the operation a denial stopped, as a wire event of its kind. */
function eventOf(r: DenialRecord, base: EventBase): VigilEvent {
  const result = -EPERM;
  const error = "EPERM";
  const truncated = false;
  switch (r.hook) {
    case "exec":
      return {
        kind: "process.exec",
        ...base,
        process: { ...base.process, exe: r.path },
        exec: { old_tid: r.task.tid, inode: r.ino, dev: r.dev, fileless: false },
      } as VigilEvent;
    case "open": {
      const write = (r.mode & FMODE_WRITE) !== 0;
      const flags = write ? ((r.mode & FMODE_READ) !== 0 ? O_RDWR : O_WRONLY) : 0;
      return {
        kind: "file.open",
        ...base,
        file: {
          // The LSM hook and fanotify see the file, not the call that opened it.
          syscall: "open",
          path: r.path,
          path_truncated: truncated,
          requested: r.path,
          flags,
          write,
          create: false,
          truncate: false,
          mode: null,
          inode: r.ino,
          dev: r.dev,
          result,
          error,
        },
      } as VigilEvent;
    }
    case "unlink":
      return {
        kind: "file.unlink",
        ...base,
        file: { syscall: "unlink", path: r.path, path_truncated: truncated, directory: false, flags: 0, result, error },
      } as VigilEvent;
    case "rename":
      return {
        kind: "file.rename",
        ...base,
        file: {
          syscall: "rename",
          old_path: r.path,
          old_path_truncated: truncated,
          new_path: r.newPath,
          new_path_truncated: truncated,
          flags: 0,
          result,
          error,
        },
      } as VigilEvent;
    case "chmod":
      return {
        kind: "file.chmod",
        ...base,
        file: {
          syscall: "chmod",
          path: r.path,
          path_truncated: truncated,
          fd: null,
          mode: r.mode & 0o7777,
          flags: 0,
          result,
          error,
        },
      } as VigilEvent;
    case "module":
      return {
        kind: "kernel.module_load",
        ...base,
        module: {
          syscall: "finit_module",
          result,
          image_size: 0n,
          fd: null,
          path: null,
          path_truncated: false,
          params: "",
          params_truncated: false,
          flags: 0,
          flag_names: [],
        },
      } as VigilEvent;
    default:
      break;
  }
  const [protocol, type] = PROTOCOLS[r.protocol] ?? [String(r.protocol), null];
  const endpoint = { address: r.address, port: r.port };
  return {
    kind: r.hook === "bind" ? "net.bind" : "net.connect",
    ...base,
    net: {
      family: r.family === 10 ? "ipv6" : "ipv4",
      type,
      protocol,
      // The cgroup and LSM hooks see the socket, not the descriptor it was reached by.
      fd: -1,
      result,
      local: r.hook === "bind" ? endpoint : null,
      remote: r.hook === "bind" ? null : endpoint,
    },
  } as VigilEvent;
}
