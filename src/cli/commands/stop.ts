import type { Command } from "commander";
import { query, socketPath } from "../client.js";

/**
 * `vigil stop`: asks the running sensor to stop through its control socket (root only). A sensor
 * run with --protect-self refuses other processes' signals where BPF-LSM runs: this is then the
 * way to stop it, besides the service manager (pid 1).
 */
export function registerStop(program: Command): void {
  program
    .command("stop")
    .description("stop the running sensor through its control socket")
    .option("--socket <path>", "the sensor's control socket (default: $VIGIL_SOCKET or /run/vigil/vigil.sock)")
    .action(async (opts: { socket?: string }) => {
      const answer = (await query(socketPath(opts.socket), "stop")) as { pid: number };
      process.stdout.write(`sensor ${answer.pid} is stopping\n`);
    });
}
