// Runs one command in the guest kernel and exits with its status:
//   node dist/test/guest/run.js [--timeout SECONDS] COMMAND [ARG...]
// The command's output goes to stdout; the kernel, the boot and run times to stderr.
import { runInGuest } from "./guest.js";

const args = process.argv.slice(2);
let timeoutMs = 300_000;
if (args[0] === "--timeout") {
  timeoutMs = Number(args[1]) * 1000;
  args.splice(0, 2);
}
if (args.length === 0 || !Number.isFinite(timeoutMs)) {
  console.error("usage: node dist/test/guest/run.js [--timeout SECONDS] COMMAND [ARG...]");
  process.exit(2);
}
const env: Record<string, string> = {};
for (const name of ["CI", "TERM"]) {
  const value = process.env[name];
  if (value !== undefined) env[name] = value;
}
try {
  const r = await runInGuest(args, { timeoutMs, env });
  process.stdout.write(r.output);
  console.error(`guest: ${r.kernel}; command started after ${r.bootMs} ms; ${r.totalMs} ms in all; exit ${r.code}`);
  process.exit(r.code);
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
