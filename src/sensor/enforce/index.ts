import { statSync } from "node:fs";
import type { Alert, Outcome } from "../../events/alert.js";
import type { EventBase, VigilEvent } from "../../events/schema.js";
import type { Logger } from "../../log.js";
import type { BpfObject, BridgeError } from "../kernel/bridge.js";
import { kernelDev } from "../kernel/interest.js";
import type { EnforcementPath } from "../kernel/preflight.js";
import type { DenialRecord } from "../kernel/records/index.js";
import type { CompiledRule, Mode, PolicyEngine, PolicySet } from "../policy/index.js";
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

export { type RuleEnforcement, type RulePath, routesHere } from "./plan.js";

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
}

/** The programs of each path: [program, what it attaches to]. */
const PROGRAMS: Record<"lsm" | "lsm_net" | "kill_at_exec" | "cgroup_sock", [string, string][]> = {
  lsm: [["vg_enforce_lsm_exec", "lsm/bprm_check_security"]],
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
  private plan: EnforcementPlan = { rules: [], hooks: [] };
  private byRuleKind = new Map<string, RuleEnforcement>();
  private maps: EnforcementMaps | undefined;
  private readonly generations = new Map<number, Map<HookName, EnforcementPlan["hooks"][number]["slots"]>>();
  private readonly programs: HookAttachment[] = [];
  private readonly enforced = new Map<string, number>();
  private missing: string[] = [];
  private unknownDenials = 0;
  private readonly paths: Set<EnforcementPath>;

  constructor(private readonly options: EnforcementOptions) {
    this.paths = new Set(options.paths);
    // Without cgroup v2 there is nothing to attach the socket programs to.
    if (!options.cgroupRoot) this.paths.delete("cgroup_sock");
  }

  /** Whether the event source should load a program of this stage: only those this host can run. */
  readonly loads = (program: string): boolean => {
    const wanted = this.wantedPrograms();
    return wanted.some(([p]) => p === program);
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
    const identify = (path: string): FileIdentity | undefined => {
      try {
        const st = statSync(path, { bigint: true });
        return { dev: kernelDev(st.dev), ino: st.ino };
      } catch {
        missing.push(path);
        return undefined;
      }
    };
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
    };
  }
}

function pathOf(target: string): EnforcementPath {
  if (target.startsWith("lsm/")) return "lsm";
  if (target.startsWith("cgroup/")) return "cgroup_sock";
  return "kill_at_exec";
}

/** The event of the operation a denial stopped, as a wire event of its kind. */
function eventOf(r: DenialRecord, base: EventBase): VigilEvent {
  if (r.hook === "exec") {
    return {
      kind: "process.exec",
      ...base,
      process: { ...base.process, exe: r.exe },
      exec: { old_tid: r.task.tid, inode: r.exeIno, dev: r.exeDev, fileless: false },
    } as VigilEvent;
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
      result: -EPERM,
      local: r.hook === "bind" ? endpoint : null,
      remote: r.hook === "bind" ? null : endpoint,
    },
  } as VigilEvent;
}
