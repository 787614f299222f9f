import type { Command } from "commander";
import { toJson } from "../../events/json.js";
import type { EnforcementReport } from "../../sensor/enforce/index.js";
import type { InterestSpec } from "../../sensor/kernel/interest.js";
import type { PolicyStatistics } from "../../sensor/policy/index.js";
import type { SensorStatistics } from "../../sensor/sensor.js";
import { query, socketPath } from "../client.js";
import { table } from "../table.js";

export function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)} s`;
  const parts = [
    [Math.floor(s / 86400), "d"],
    [Math.floor(s / 3600) % 24, "h"],
    [Math.floor(s / 60) % 60, "m"],
    [s % 60, "s"],
  ] as const;
  const first = parts.findIndex(([n]) => n > 0);
  return parts
    .slice(first)
    .map(([n, unit]) => `${n}${unit}`)
    .join(" ");
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1 << 30) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  return `${(n / (1 << 30)).toFixed(2)} GiB`;
}

/** Key/value lines, keys padded to the longest. */
function fields(rows: [string, string][]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return `${rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`.trimEnd()).join("\n")}\n`;
}

/** What the kernel's filter maps hold, in a line; --json has the whole spec. */
function interestSummary(spec: InterestSpec): string {
  const kinds = Object.values(spec.kinds);
  const off = kinds.filter((k) => !k.enabled).length;
  const prefixes = kinds.reduce((n, k) => n + (k.enabled ? Object.keys(k.paths ?? {}).length : 0), 0);
  const ignored = spec.ignoreComms.length + spec.ignoreExes.length;
  return `${off} kinds off, ${prefixes} path prefixes, ${ignored} ignored comms/exes`;
}

/** Deny and kill rules by the path that enforces them, in a line; `vigil policy status` has each. */
function enforcingSummary(r: EnforcementReport): string {
  const by = new Map<string, number>();
  for (const x of r.rules) by.set(x.path, (by.get(x.path) ?? 0) + 1);
  const stops = r.rules.reduce((n, x) => n + x.enforced, 0);
  return by.size === 0
    ? "no deny or kill rules"
    : `${[...by].map(([p, n]) => `${n} by ${p}`).join(", ")}; ${stops} stopped or killed`;
}

function containerSummary(c: NonNullable<SensorStatistics["containers"]>): string {
  return `${c.containers} known, ${c.cgroups} cgroups resolved (${c.lookups} lookups, ${c.walks} tree walks), ${c.stateReads} runtime state reads, ${c.stateErrors} unreadable`;
}

function kubernetesSummary(k: NonNullable<NonNullable<SensorStatistics["containers"]>["kubernetes"]>): string {
  const problems = `${k.errors} watch errors${k.lastError ? ` (last: ${k.lastError})` : ""}, ${k.malformed} malformed events`;
  return `${k.pods} pods on this node, ${k.ownerLookups} owner lookups, ${problems}`;
}

function packageSummary(p: NonNullable<SensorStatistics["packages"]>): string {
  const kinds = Object.entries(p.byEcosystem)
    .map(([e, n]) => `${e} ${n}`)
    .join(", ");
  return `${p.packages} loaded${kinds ? ` (${kinds})` : ""}; ${p.sightings} loads seen, ${p.filesRead} files read (${p.unowned} no package's, ${p.unreadable} unreadable), ${p.scans} mapping scans (${p.scanFailures} failed), ${p.dropped} dropped, ${p.evictedPackages} packages and ${p.evictedFiles} files forgotten at the limits`;
}

/** The statistics as tables for people. Numbers that crossed the socket may be number or bigint. */
export function formatStatistics(s: SensorStatistics): string {
  const seconds = (us: number) => `${(us / 1e6).toFixed(2)} s`;
  const errors = Object.entries(s.decodeErrors);
  const out: string[] = [
    fields([
      ["uptime", duration(s.uptimeMs)],
      ["records decoded", String(s.records)],
      ["decode errors", errors.map(([k, n]) => `${k} ${n}`).join(", ") || "none"],
      ["lost records", String(s.lostRecords)],
      ["process table", `${s.processes} live processes`],
      ...(s.containers ? [["containers", containerSummary(s.containers)] as [string, string]] : []),
      ...(s.containers?.kubernetes
        ? [["kubernetes", kubernetesSummary(s.containers.kubernetes)] as [string, string]]
        : []),
      ...(s.packages ? [["packages", packageSummary(s.packages)] as [string, string]] : []),
      ["agent cpu", `${seconds(s.agent.cpuUserUs)} user, ${seconds(s.agent.cpuSystemUs)} system`],
      ["agent rss", bytes(s.agent.rssBytes)],
      ["enforcement", s.enforcement.join(", ") || "none (audit only)"],
      ...(s.enforcing ? [["enforced rules", enforcingSummary(s.enforcing)] as [string, string]] : []),
      ...(s.interest ? [["kernel interest", interestSummary(s.interest)] as [string, string]] : []),
      [
        "not attached",
        s.attachFailures.length === 0 ? "none" : s.attachFailures.map((f) => `${f.program} (${f.error})`).join("; "),
      ],
    ]),
  ];
  const kinds = [...new Set([...Object.keys(s.events), ...Object.keys(s.filtered)])].sort();
  out.push(
    table(
      ["KIND", "DELIVERED", "FILTERED IN KERNEL"],
      kinds.length > 0
        ? kinds.map((k) => [k, String(s.events[k] ?? 0), String(s.filtered[k] ?? 0)])
        : [["(no events yet)", "", ""]],
    ),
  );
  out.push(
    table(
      ["RING", "LOST", "RECORDS", "BATCHES", "BYTES", "OVERSIZED"],
      s.rings.map((r) => [
        r.name,
        String(r.lost),
        String(r.records),
        String(r.batches),
        bytes(r.bytes),
        String(r.oversized),
      ]),
    ),
  );
  out.push(
    table(
      ["SINK", "WRITTEN", "DROPPED", "FAILED", "QUEUED"],
      // A sensor from before sinks had names and failure counts answers without them.
      s.sinks.map((k, i) => [
        k.sink ?? String(i),
        String(k.written),
        String(k.dropped),
        String(k.failed ?? 0),
        String(k.queued ?? 0),
      ]),
    ),
  );
  if (s.policy) out.push(formatPolicies(s.policy));
  return out.join("\n");
}

/**
 * The policies in force and each rule's cost, the costliest first; for sequence rules, their
 * partial matches held now, and those dropped because their window passed or to make room.
 */
export function formatPolicies(p: PolicyStatistics): string {
  const troubled = p.files.filter((f) => f.status !== "loaded");
  const lines = [
    `policies: ${p.policies} in force, ${p.rules} rules, ${p.alerts} alerts, ${p.mode} mode, loaded ${p.loadedAt}` +
      (p.reloads > 0 ? ` (reload ${p.reloads})` : ""),
    ...troubled.map((f) =>
      f.status === "stale"
        ? `  ${f.file}: ${f.errors} errors; its last good version stays in force`
        : `  ${f.file}: rejected, ${f.errors} errors`,
    ),
  ];
  const { sequences: q } = p;
  if (p.perRule.some((r) => r.sequence)) {
    lines.push(
      `sequences: ${q.partial} partial matches held (at most ${q.limits.perRule} a rule, ${q.limits.total} in all), ${q.expired} expired, ${q.evicted} evicted`,
    );
  }
  lines.push("");
  const rows = [...p.perRule]
    .sort((a, b) => b.timeNs - a.timeNs || b.tested - a.tested)
    .map((r) => [
      r.rule,
      r.policy,
      r.enabled ? String(r.tested) : "disabled",
      String(r.matched),
      String(r.exempted),
      String(r.errors),
      `${(r.timeNs / 1e6).toFixed(1)} ms`,
      r.tested > 0 && r.timeNs > 0 ? `${Math.round(r.timeNs / r.tested)} ns` : "-",
      r.sequence ? `${r.sequence.partial}/${r.sequence.expired}/${r.sequence.evicted}` : "-",
      r.lastError ?? "",
    ]);
  return (
    `${lines.join("\n")}\n` +
    table(
      [
        "RULE",
        "POLICY",
        "TESTED",
        "MATCHED",
        "EXEMPTED",
        "ERRORS",
        "TIME",
        "PER TEST",
        "HELD/EXPIRED/EVICTED",
        "LAST ERROR",
      ],
      rows.length > 0 ? rows : [["(no rules)", "", "", "", "", "", "", "", "", ""]],
    )
  );
}

export function registerStatistics(program: Command): void {
  program
    .command("get-statistics")
    .description("print the running sensor's statistics: events, losses, decode errors, resources, rule costs")
    .option("--json", "print as JSON")
    .option("--socket <path>", "the sensor's control socket (default: $VIGIL_SOCKET or /run/vigil/vigil.sock)")
    .action(async (opts: { json?: boolean; socket?: string }) => {
      const stats = (await query(socketPath(opts.socket), "statistics")) as SensorStatistics;
      process.stdout.write(opts.json ? `${toJson(stats)}\n` : formatStatistics(stats));
    });
}
