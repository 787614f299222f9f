import type { Alert } from "../events/alert.js";
import type { VigilEvent } from "../events/schema.js";
import type { Logger } from "../log.js";
import type {
  ContainerTable,
  ContainerTableStatistics,
  KubernetesPods,
  KubernetesStatistics,
} from "./containers/index.js";
import type { Enforcement, EnforcementReport } from "./enforce/index.js";
import { absolutePath } from "./enrich/file.js";
import { Enricher, WallClock } from "./enrich/index.js";
import { cgroup2MountPoint } from "./host/index.js";
import { InterestInForce, withExtra } from "./interest-in-force.js";
import {
  DEFAULT_SOURCE_OPTIONS,
  type KernelBridge,
  KernelSource,
  type KernelSourceOptions,
  type PreflightReport,
  preflight,
  RecordDecoder,
} from "./kernel/index.js";
import { DEFAULT_INTEREST, type InterestSpec } from "./kernel/interest.js";
import type { EnforcementPath } from "./kernel/preflight.js";
import type { AttachFailure, RingReport } from "./kernel/source.js";
import {
  PackageInventory,
  type PackageInventoryStatistics,
  type PackageLimits,
  packageInterest,
} from "./packages/index.js";
import type { PolicyEngine, PolicySet, PolicyStatistics } from "./policy/index.js";
import type { Sink, SinkStats } from "./sinks/index.js";
import { HostState } from "./state/index.js";

export interface SensorOptions {
  bridge: KernelBridge;
  sinks: Sink[];
  logger: Logger;
  source?: Partial<KernelSourceOptions>;
  /** What the kernel sends; DEFAULT_INTEREST when absent. */
  interest?: InterestSpec;
  /**
   * What the kernel sends, derived from the policies in force (with `policy`): used instead of
   * `interest`, on start and again on every reload.
   */
  interestFrom?: (set: PolicySet) => InterestSpec;
  procRoot?: string;
  /** Tests every event against the policies in force; without it no alert is raised. */
  policy?: PolicyEngine;
  /**
   * Enforces the deny and kill rules of `policy`; made from what preflight found, once the
   * sensor starts. Without it every rule only alerts (would_deny, would_kill).
   */
  enforcement?: (paths: EnforcementPath[]) => Enforcement;
  /** Says which container each process runs in; without it events carry no container. */
  containers?: ContainerTable;
  /** This node's pods, for the containers' Kubernetes metadata (with `containers`). */
  pods?: KubernetesPods;
  /**
   * Keeps an inventory of the packages processes load: their opens below `prefixes` are asked of
   * the kernel besides the interest (and not sent on as events unless the interest asks for
   * them), and their mappings are read at start-up and every `rescanMs` after an exec.
   */
  packages?: { prefixes: readonly string[]; limits?: Partial<PackageLimits>; rescanMs?: number; hostRoot?: string };
}

export interface SensorStatistics {
  uptimeMs: number;
  records: number;
  decodeErrors: Record<string, number>;
  /** Records the kernel could not reserve, all rings together. */
  lostRecords: bigint;
  /** Per ring buffer: lost records and drain counts. */
  rings: RingReport[];
  /** Events delivered to the agent, per kind. */
  events: Record<string, number>;
  /** Events the kernel's filters dropped, per kind. */
  filtered: Record<string, number>;
  processes: number;
  /** Per sink: what it delivered, dropped, gave up on and holds. */
  sinks: SinkStats[];
  /** This agent process: CPU time (process.cpuUsage) and resident memory. */
  agent: { cpuUserUs: number; cpuSystemUs: number; rssBytes: number };
  /** What can stop an operation here: the paths with programs attached, else what preflight found. */
  enforcement: EnforcementPath[];
  /** Which path enforces each deny and kill rule; absent without enforcement. */
  enforcing?: EnforcementReport;
  /** Programs that did not attach; their events are missing. */
  attachFailures: AttachFailure[];
  /** The policies in force and what each rule cost; absent when the sensor runs without. */
  policy?: PolicyStatistics;
  /** What the kernel's filter maps hold now; absent before start. */
  interest?: InterestSpec;
  /** The container table, and the pod watch when there is one. */
  containers?: ContainerTableStatistics & { kubernetes?: KubernetesStatistics };
  /** The package inventory, when it is on. */
  packages?: PackageInventoryStatistics;
}

/** How often processes that exec'd have their mappings read, by default. */
const RESCAN_MS = 5000;
/** open(2) flags that make an open a write, as the kernel's filter reads them (bpf/file.bpf.c). */
const OPEN_WRITES = 0o1 | 0o2 | 0o100 | 0o1000 | 0o2000;
/** How often the fanotify thread's denials are collected and alerted. */
const FANOTIFY_POLL_MS = 100;

/**
 * The pipeline: kernel → decode → state → enrich → policy → sinks. One batch from the kernel is carried
 * through every stage before the next is taken, so stages need no locks and see events in order.
 */
export class Sensor {
  readonly state: HostState;
  private fanotifyTimer: NodeJS.Timeout | undefined;
  readonly decoder = new RecordDecoder();
  private readonly source: KernelSource;
  /** Kernel clocks to wall time. */
  readonly clock: WallClock;
  private readonly enricher: Enricher;
  private readonly events: Record<string, number> = {};
  private startedAtMs = 0;
  private clockTimer: NodeJS.Timeout | undefined;
  private interest: InterestInForce | undefined;
  report: PreflightReport | undefined;
  private enforcer: Enforcement | undefined;
  /** The packages processes load; undefined unless the sensor keeps an inventory. */
  readonly packages: PackageInventory | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private rescanning: Promise<void> | undefined;

  constructor(private readonly options: SensorOptions) {
    this.state = new HostState({}, options.containers);
    this.source = new KernelSource(options.bridge, { ...DEFAULT_SOURCE_OPTIONS, ...options.source });
    this.clock = new WallClock(() => options.bridge.clocks());
    this.enricher = new Enricher(this.state.processes, this.clock);
    if (options.packages) {
      this.packages = new PackageInventory({
        logger: options.logger,
        ...(options.procRoot && { procRoot: options.procRoot }),
        ...(options.packages.limits && { limits: options.packages.limits }),
        ...(options.packages.hostRoot && { hostRoot: options.packages.hostRoot }),
        livePidOf: (id) => {
          for (const a of this.state.processes.actors()) if (a.container?.id === id) return a.pid;
          return undefined;
        },
      });
    }
  }

  async start(): Promise<void> {
    const { logger, bridge } = this.options;
    const report = preflight(bridge);
    this.report = report;
    for (const m of report.mounts) {
      if (m.state === "mounted") logger.info({ fsType: m.fsType, target: m.target }, "mounted filesystem");
      if (m.state === "failed")
        logger.warn({ fsType: m.fsType, target: m.target, err: m.error }, "could not mount filesystem");
    }
    const failed = report.checks.filter((c) => c.status === "fail");
    if (failed.length > 0) {
      throw new Error(failed.map((c) => `${c.name}: ${c.detail ?? c.value}`).join("; "));
    }
    logger.info({ kernel: report.kernelRelease, enforcement: report.enforcement }, "preflight passed");

    // Attach before reading /proc so that a process starting meanwhile is caught by one or the other.
    const { policy, interestFrom } = this.options;
    const follows = policy && interestFrom;
    const interest = follows ? interestFrom(policy.current) : (this.options.interest ?? DEFAULT_INTEREST);
    const enforcer = policy && this.options.enforcement?.(report.enforcement);
    this.enforcer = enforcer;
    const extra = this.options.packages && packageInterest(this.options.packages.prefixes);
    this.source.attach(withExtra(interest, extra), report.object, enforcer?.loads);
    this.interest = new InterestInForce((spec) => this.source.setInterest(spec), interest, logger, extra);
    if (follows) this.interest.follow(policy, interestFrom);
    if (enforcer && policy && this.source.object) {
      enforcer.attach(this.source.object);
      enforcer.follow(policy);
      const r = enforcer.report();
      logger.info(
        {
          paths: r.inUse,
          programs: r.programs,
          rules: r.rules.map((x) => `${x.policy}/${x.rule} on ${x.kind}: ${x.path}`),
          ...(r.missing.length > 0 && { missing: r.missing }),
        },
        `enforcement paths in use: ${r.inUse.join(", ") || "none"}`,
      );
    }
    for (const f of this.source.attachFailures) {
      // A hook the kernel was built without (no module support, say) is a fact, not a fault.
      if (f.code === "ENOENT") logger.info(f, "hook absent from this kernel; its events cannot occur");
      else logger.warn(f, "program did not attach; its events are missing");
    }
    const { containers, pods } = this.options;
    if (containers && pods) {
      containers.followPods(pods);
      // The sensor does not wait for the API server: events go out, with pod metadata once it comes.
      void pods.start();
    }
    const seeded = this.state.seed({ procRoot: this.options.procRoot ?? "/proc", cgroupRoot: cgroup2MountPoint() });
    this.source.drain((batch) => this.onBatch(batch));
    if (enforcer?.fanotifyGuard) {
      // The thread queues what it stopped; the agent turns it into alerts at this pace.
      this.fanotifyTimer = setInterval(() => this.fanotifyAlerts(), FANOTIFY_POLL_MS).unref();
    }
    this.clockTimer = setInterval(() => this.clock.refresh(), 10_000).unref();
    const packages = this.packages;
    if (packages) {
      // One pass at a time: a pass that outlasts the period is not joined by the next.
      const pass = (what: string, scan: () => Promise<void>) => {
        this.rescanning ??= scan()
          .catch((err: Error) => logger.error({ err }, `packages: ${what} failed: ${err.message}`))
          .finally(() => {
            this.rescanning = undefined;
          });
      };
      pass("reading the mappings of every process", () => packages.scanAll(this.state.processes.actors()));
      this.rescanTimer = setInterval(
        () =>
          pass("reading the mappings of processes that exec'd", () =>
            packages.rescan((pid) => this.state.processes.get(pid)),
          ),
        this.options.packages?.rescanMs ?? RESCAN_MS,
      ).unref();
    }
    this.startedAtMs = Date.now();
    logger.info({ processes: seeded }, "sensor started");
  }

  /** The policy stage, when the sensor runs with policies. */
  get policy(): PolicyEngine | undefined {
    return this.options.policy;
  }

  /** Which path enforces each deny and kill rule; undefined without policies. */
  get enforcement(): EnforcementReport | undefined {
    return this.enforcer?.report();
  }

  /** Date.now() when start() finished; 0 before. */
  get startedAt(): number {
    return this.startedAtMs;
  }

  private readonly emit = (event: VigilEvent): void => {
    this.events[event.kind] = (this.events[event.kind] ?? 0) + 1;
    this.options.policy?.evaluate(event, this.raise);
    const attempt = this.enforcer?.watch(event);
    if (attempt) this.alerts.push(attempt);
    for (const sink of this.options.sinks) sink.write(event);
    if (this.alerts.length === 0) return;
    // An alert follows the event it is about, on every sink.
    for (const alert of this.alerts) for (const sink of this.options.sinks) sink.write(alert);
    this.alerts.length = 0;
  };

  private readonly alerts: Alert[] = [];
  private readonly raise = (alert: Alert): void => {
    this.enforcer?.act(alert);
    this.alerts.push(alert);
  };

  private fanotifyAlerts(): void {
    const alerts = this.enforcer?.fanotifyAlerts(
      (pid, now) => this.enricher.baseOf(pid, now),
      BigInt(Date.now()) * 1_000_000n,
    );
    if (!alerts?.length) return;
    for (const alert of alerts) for (const sink of this.options.sinks) sink.write(alert);
    for (const sink of this.options.sinks) sink.flush();
  }

  private onBatch(batch: Buffer): void {
    this.decoder.decodeBatch(batch, (record) => {
      const actor = this.state.apply(record);
      if (!actor) return;
      if (this.packages) {
        if (record.op === "process.exec") this.packages.executed(actor);
        else if (record.op === "file.open") {
          const opened = record.result >= 0 && record.file !== "";
          const path = opened ? record.file : absolutePath(record.path, record.dir);
          if (opened) this.packages.opened(actor, path);
          // An open only the inventory asked for is not an event anyone else wants.
          const access = record.flags & OPEN_WRITES ? "write" : "read";
          if (this.interest && !this.interest.sends("file.open", path, access)) return;
        }
      }
      if (record.op === "enforce.denial") {
        const base = this.enricher.base(record, actor);
        const alert = this.enforcer?.alertOf(record, base, base.time);
        if (alert) for (const sink of this.options.sinks) sink.write(alert);
        return;
      }
      this.enricher.enrich(record, actor, this.emit);
    });
    for (const sink of this.options.sinks) sink.flush();
  }

  statistics(): SensorStatistics {
    const rings = this.source.rings();
    const cpu = process.cpuUsage();
    return {
      uptimeMs: this.startedAtMs ? Date.now() - this.startedAtMs : 0,
      records: this.decoder.stats.records,
      decodeErrors: { ...this.decoder.stats.errors },
      lostRecords: rings.reduce((n, r) => n + r.lost, 0n),
      rings,
      events: { ...this.events },
      filtered: this.source.filteredByKind(),
      processes: this.state.processes.size,
      sinks: this.options.sinks.map((s) => ({ ...s.stats })),
      agent: { cpuUserUs: cpu.user, cpuSystemUs: cpu.system, rssBytes: process.memoryUsage.rss() },
      enforcement: this.enforcer ? this.enforcer.inUse : [...(this.report?.enforcement ?? [])],
      ...(this.enforcer && { enforcing: this.enforcer.report() }),
      attachFailures: this.source.attachFailures.map((f) => ({ ...f })),
      ...(this.options.policy && { policy: this.options.policy.statistics() }),
      ...(this.interest && { interest: this.interest.current }),
      ...(this.options.containers && {
        containers: {
          ...this.options.containers.statistics(),
          ...(this.options.pods && { kubernetes: { ...this.options.pods.stats } }),
        },
      }),
      ...(this.packages && { packages: this.packages.statistics() }),
    };
  }

  /** Detaches every program, delivers what is still queued, and closes the sinks. */
  async stop(): Promise<SensorStatistics> {
    if (this.clockTimer) clearInterval(this.clockTimer);
    if (this.rescanTimer) clearInterval(this.rescanTimer);
    await this.options.pods?.stop();
    if (this.fanotifyTimer) clearInterval(this.fanotifyTimer);
    this.fanotifyAlerts();
    this.enforcer?.close();
    await this.source.stop();
    const stats = this.statistics();
    this.source.close();
    for (const sink of this.options.sinks) await sink.close();
    return stats;
  }
}
