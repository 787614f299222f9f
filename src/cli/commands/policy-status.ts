import type { Command } from "commander";
import { toJson } from "../../events/json.js";
import type { EnforcementReport } from "../../sensor/enforce/index.js";
import { query, socketPath } from "../client.js";
import { table } from "../table.js";

/** What each path does, for the table's legend. */
const PATH_WORDS: Record<string, string> = {
  lsm: "BPF-LSM: the call fails with EPERM",
  fanotify: "fanotify permission event: the open or exec fails with EPERM",
  cgroup_sock: "cgroup socket program: the call fails with EPERM",
  kill_at_exec: "SIGKILL at exec: the program never runs",
  kill_after: "SIGKILL after the call: the operation was NOT prevented",
  audit: "audit only: alerts say would_deny / would_kill",
};

/** The report as people read it: the paths, then one row per rule and kind. */
export function formatEnforcement(r: EnforcementReport): string {
  const lines = [
    `paths available: ${r.available.join(", ") || "none"}`,
    `paths in use:    ${r.inUse.join(", ") || "none"}${r.mode ? ` (every policy forced to ${r.mode} mode)` : ""}`,
    `kernel tables:   generation ${r.generation}`,
    ...r.programs.filter((p) => !p.attached).map((p) => `not attached:    ${p.program} (${p.target}): ${p.error}`),
    ...(r.missing.length > 0 ? [`not found:       ${r.missing.join(", ")} (matched by path until they exist)`] : []),
    ...(r.unknownDenials > 0 ? [`stops of rules no longer known: ${r.unknownDenials}`] : []),
    "",
  ];
  const rows = r.rules.map((x) => [x.rule, x.policy, x.kind, x.action, x.mode, x.path, String(x.enforced), x.detail]);
  const used = [...new Set(r.rules.map((x) => x.path))];
  return (
    `${lines.join("\n")}\n` +
    table(
      ["RULE", "POLICY", "KIND", "ACTION", "MODE", "PATH", "ENFORCED", "DETAIL"],
      rows.length > 0 ? rows : [["(no deny or kill rules)", "", "", "", "", "", "", ""]],
    ) +
    (used.length > 0 ? `\n${used.map((p) => `${p}: ${PATH_WORDS[p] ?? p}`).join("\n")}\n` : "")
  );
}

export function registerPolicyStatus(policy: Command): void {
  policy
    .command("status")
    .description("ask the running sensor which path enforces each deny and kill rule on this host")
    .option("--json", "print as JSON")
    .option("--socket <path>", "the sensor's control socket (default: $VIGIL_SOCKET or /run/vigil/vigil.sock)")
    .action(async (opts: { json?: boolean; socket?: string }) => {
      const report = (await query(socketPath(opts.socket), "enforcement")) as EnforcementReport;
      process.stdout.write(opts.json ? `${toJson(report)}\n` : formatEnforcement(report));
    });
}
