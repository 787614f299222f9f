import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Runs commands under Debian's stock 6.1 kernel in QEMU, for what this host's kernel refuses
 * (BPF-LSM programs). The guest's root is the host's, shared read-only over 9p, so the host's
 * Node, the built tree and the native addon run there unchanged; scripts/setup-guest.sh prepares
 * the kernel and initramfs. Emulation (TCG) because the host has no usable KVM: a boot costs
 * seconds, so callers batch what they run into one boot.
 */

export const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
export const guestDir = process.env.VIGIL_GUEST_DIR ?? "/var/cache/vigil-guest";
const qemu = "qemu-system-x86_64";

/** Where the job directory is inside the guest: the command's files go and come back there. */
export const guestJobDir = "/run/vigil-guest";

export interface GuestOptions {
  /** Working directory inside the guest (the host's path); the checkout by default. */
  cwd?: string;
  /** The command's whole environment; PATH and HOME are added when missing. */
  env?: Record<string, string>;
  /** QEMU is killed after this long and the run fails with the console's tail. */
  timeoutMs?: number;
  cpus?: number;
  memory?: string;
  /** Files the command leaves in the job directory to read back after it ends. */
  collect?: string[];
}

export interface GuestResult {
  /** The command's exit status. */
  code: number;
  /** Its stdout and stderr together. */
  output: string;
  /** The guest's serial console: kernel messages and the init's lines. */
  console: string;
  /** The collected files that the command wrote. */
  files: Record<string, string>;
  /** The package the kernel came from, as setup-guest.sh recorded it. */
  kernel: string;
  /** From starting QEMU to the command starting in the guest. */
  bootMs: number;
  /** From starting QEMU to QEMU exiting. */
  totalMs: number;
}

/** What is missing to boot the guest; empty when it can run. */
export function guestProblems(): string[] {
  const problems: string[] = [];
  if (process.geteuid?.() !== 0) problems.push("not root (the guest's root is the host's, read over 9p)");
  if (spawnSync(qemu, ["--version"]).status !== 0) problems.push(`${qemu} not installed (scripts/setup.sh)`);
  for (const f of ["vmlinux", "initramfs.cpio", "kernel"])
    if (!existsSync(join(guestDir, f))) problems.push(`no ${join(guestDir, f)} (scripts/setup.sh)`);
  return problems;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const tail = (s: string, lines = 40) => s.split("\n").slice(-lines).join("\n");

/** Paths below /tmp that the command reads; the guest puts a tmpfs there and moves these over it. */
function underTmp(cwd: string): string[] {
  const paths = [root, cwd, join(root, "node_modules")].filter(existsSync).map((p) => realpathSync(p));
  const below = paths.filter((p) => p.startsWith("/tmp/"));
  return [...new Set(below)].filter((p) => !below.some((q) => p.startsWith(`${q}/`)));
}

/**
 * Boots the guest, runs `argv` in it and resolves with its exit status and output once the
 * guest has powered off. Rejects, with the console's tail, when the guest does not get to the
 * command or does not finish in time.
 */
export async function runInGuest(argv: string[], options: GuestOptions = {}): Promise<GuestResult> {
  const problems = guestProblems();
  if (problems.length) throw new Error(`cannot boot the guest: ${problems.join(", ")}`);
  const cwd = options.cwd ?? root;
  const env = { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root", ...options.env };
  const job = mkdtempSync(join(tmpdir(), "vigil-guest-"));
  try {
    copyFileSync(join(root, "test/guest/guest-init.sh"), join(job, "init"));
    writeFileSync(join(job, "keep"), underTmp(cwd).join("\n"));
    const assignments = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`);
    writeFileSync(
      join(job, "command"),
      `cd ${quote(cwd)} || exit 125\nexec /usr/bin/env -i ${assignments.join(" ")} ${argv.map(quote).join(" ")}\n`,
    );
    const started = Date.now();
    const { serial, bootMs } = await boot(job, options, started);
    const totalMs = Date.now() - started;
    const status = join(job, "status");
    const output = existsSync(join(job, "output")) ? readFileSync(join(job, "output"), "utf8") : "";
    if (!existsSync(status) || bootMs === undefined)
      throw new Error(
        `the guest ended before the command did\n--- console\n${tail(serial)}\n--- output\n${tail(output)}`,
      );
    const files: Record<string, string> = {};
    for (const name of options.collect ?? []) {
      const path = join(job, name);
      if (existsSync(path)) files[name] = readFileSync(path, "utf8");
    }
    return {
      code: Number(readFileSync(status, "utf8").trim()),
      output,
      console: serial,
      files,
      kernel: readFileSync(join(guestDir, "kernel"), "utf8").trim(),
      bootMs,
      totalMs,
    };
  } finally {
    rmSync(job, { recursive: true, force: true });
  }
}

function boot(
  job: string,
  options: GuestOptions,
  started: number,
): Promise<{ serial: string; bootMs: number | undefined }> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  // The host's root is exported with its submounts; multidevs=remap keeps inode numbers from
  // different host filesystems apart.
  const args = [
    ...["-accel", "tcg", "-M", "pc", "-cpu", "max"],
    ...["-smp", String(options.cpus ?? 2), "-m", options.memory ?? "2G"],
    ...["-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot"],
    ...["-kernel", join(guestDir, "vmlinux"), "-initrd", join(guestDir, "initramfs.cpio")],
    ...["-append", "console=ttyS0 quiet panic=-1"],
    ...["-virtfs", "local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap"],
    ...["-virtfs", `local,path=${job},mount_tag=job,security_model=none`],
  ];
  return new Promise((resolve, reject) => {
    const vm = spawn(qemu, args, { stdio: ["ignore", "pipe", "pipe"] });
    let serial = "";
    let bootMs: number | undefined;
    const take = (d: string) => {
      serial += d;
      if (bootMs === undefined && serial.includes("vigil-guest: ready")) bootMs = Date.now() - started;
    };
    vm.stdout.setEncoding("utf8").on("data", take);
    vm.stderr.setEncoding("utf8").on("data", take);
    const timer = setTimeout(() => {
      vm.kill("SIGKILL");
      const output = existsSync(join(job, "output")) ? readFileSync(join(job, "output"), "utf8") : "";
      reject(
        new Error(
          `the guest did not finish in ${timeoutMs} ms (${bootMs === undefined ? "it never got to the command" : `the command started after ${bootMs} ms`})\n--- console\n${tail(serial)}\n--- output\n${tail(output)}`,
        ),
      );
    }, timeoutMs);
    vm.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    vm.once("exit", () => {
      clearTimeout(timer);
      resolve({ serial, bootMs });
    });
  });
}
