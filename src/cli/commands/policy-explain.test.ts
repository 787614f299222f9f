import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { installRoot } from "../../paths.js";

const vigil = join(installRoot, "bin/vigil");

function run(...args: string[]) {
  const out = spawnSync(process.execPath, [vigil, "policy", "explain", ...args], { encoding: "utf8" });
  return { status: out.status, stdout: out.stdout, stderr: out.stderr };
}

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "vigil-explain-"));
  const policy = {
    apiVersion: "vigil.dev/v1",
    kind: "Policy",
    metadata: { name: "files" },
    spec: {
      lists: { readers: ["/usr/sbin/unix_chkpwd"] },
      rules: [
        { id: "read-shadow", on: "file.open", when: "file.path == '/etc/shadow' && !(process.exe in lists.readers)" },
        { id: "etc-removed", on: "file.unlink", when: "file.path.startsWith('/etc/')" },
        { id: "back-door", on: "net.connect", when: "net.remote.port == 4444" },
      ],
    },
  };
  writeFileSync(join(dir, "files.json"), JSON.stringify(policy, null, 2));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe("vigil policy explain", () => {
  test("one rule: its kernel part, what user space decides, and what the kernel sends for all", () => {
    const out = run("read-shadow", "--policies", dir);
    assert.equal(out.status, 0, out.stderr);
    assert.equal(
      out.stdout.split("\n\n")[0],
      [
        "files/read-shadow on file.open",
        "  kernel      file.open: /etc/shadow (any); elsewhere nothing",
        '  user space  file.path == "/etc/shadow"',
        "              !(process.exe in lists.readers)",
      ].join("\n"),
    );
    assert.match(out.stdout, /\nfile\.open +\/etc\/shadow \(any\); elsewhere nothing\n/);
    assert.match(out.stdout, /\nfile\.unlink +\/etc\/ \(any\); elsewhere nothing\n/);
    assert.match(out.stdout, /\nnet\.connect +every event\n/);
    assert.match(out.stdout, /\noff: file\.rename, /);
  });

  test("a path test the kernel decides exactly leaves nothing more to user space", () => {
    const out = run("files/etc-removed", "--policies", join(dir, "files.json"));
    assert.match(out.stdout, /user space {2}nothing more: the kernel's test is the whole condition/);
  });

  test("--json: every rule's parts and the union", () => {
    const out = run("--policies", dir, "--json");
    const json = JSON.parse(out.stdout) as {
      rules: { rule: string; parts: { kind: string; remainder: string[] }[] }[];
      interest: { kinds: Record<string, unknown> };
    };
    assert.deepEqual(
      json.rules.map((r) => r.rule),
      ["read-shadow", "etc-removed", "back-door"],
    );
    assert.deepEqual(json.rules[2]?.parts[0]?.remainder, ["net.remote.port == 4444"]);
    assert.deepEqual(json.interest.kinds["file.unlink"], {
      enabled: true,
      pathDefault: "none",
      paths: { "/etc/": "any" },
    });
  });

  test("an unknown rule or path: exit 2", () => {
    assert.equal(run("nope", "--policies", dir).status, 2);
    assert.equal(run("--policies", join(dir, "missing")).status, 2);
  });
});
