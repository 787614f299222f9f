import type { Command } from "commander";
import { toJson } from "../../events/json.js";
import type { ContainerView } from "../../sensor/control/index.js";
import { query, socketPath } from "../client.js";
import { table } from "../table.js";
import { forest, printable } from "./actors.js";

/** Longest ARGS cell without --wide. */
const ARGS_WIDTH = 80;

/**
 * One row per process, the container's columns on its first: the processes of a container
 * drawn as their tree, as `actors` draws the host's.
 */
export function formatContainers(containers: readonly ContainerView[], wide = false): string {
  const rows: string[][] = [];
  for (const c of containers) {
    const pod = c.k8s ? `${c.k8s.namespace}/${c.k8s.pod}` : "";
    forest(c.processes).forEach(({ actor: a, depth }, i) => {
      const branch = depth === 0 ? "" : `${"   ".repeat(depth - 1)} \\_ `;
      let args = a.args.join(" ") + (a.argsTruncated ? " …" : "");
      if (!wide && args.length > ARGS_WIDTH) args = `${args.slice(0, ARGS_WIDTH - 1)}…`;
      const first = i === 0;
      rows.push([
        first ? c.id.slice(0, 12) : "",
        first ? c.runtime : "",
        first ? printable(c.name ?? "") : "",
        first ? printable(c.image ?? "") : "",
        first ? printable(pod) : "",
        String(a.pid),
        a.user ?? String(a.uid),
        printable(branch + (a.exe || `[${a.comm}]`)),
        printable(args),
      ]);
    });
  }
  return table(["CONTAINER", "RUNTIME", "NAME", "IMAGE", "POD", "PID", "USER", "EXE", "ARGS"], rows);
}

export function registerContainers(program: Command): void {
  program
    .command("containers")
    .description("print the running containers and their processes as the running sensor knows them")
    .option("--json", "print JSON: each container with its metadata, pod and processes")
    .option("--wide", `print every argument (the table cuts them at ${ARGS_WIDTH} characters)`)
    .option("--socket <path>", "the sensor's control socket (default: $VIGIL_SOCKET or /run/vigil/vigil.sock)")
    .action(async (opts: { json?: boolean; wide?: boolean; socket?: string }) => {
      const containers = (await query(socketPath(opts.socket), "containers", {})) as ContainerView[];
      process.stdout.write(opts.json ? `${toJson(containers)}\n` : formatContainers(containers, opts.wide));
    });
}
