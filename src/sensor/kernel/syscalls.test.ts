import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { bpfObjectDir } from "../../paths.js";
import { kernelBridge } from "./bridge.js";
import { placeSyscallHandlers, SYSCALL_DISPATCHER, SYSCALL_HANDLERS, syscallNumbers } from "./syscalls.js";

/** __NR_<name> → number from a uapi header, following `#define __NR_x __NR3264_x` aliases. */
function headerNumbers(path: string): Map<string, number> {
  const defines = new Map<string, string>();
  for (const m of readFileSync(path, "utf8").matchAll(/^#define (__NR(?:3264)?_\w+)\s+(\w+)/gm))
    defines.set(m[1] ?? "", m[2] ?? "");
  const numbers = new Map<string, number>();
  for (const [name, value] of defines) {
    const resolved = /^\d+$/.test(value) ? value : defines.get(value);
    if (name.startsWith("__NR_") && resolved && /^\d+$/.test(resolved)) numbers.set(name.slice(5), Number(resolved));
  }
  return numbers;
}

/** The kernel's name for a syscall is its number's name, but for umount (umount2). */
const numberName = (syscall: string) => (syscall === "umount" ? "umount2" : syscall);

const HEADERS = {
  x64: "/usr/include/x86_64-linux-gnu/asm/unistd_64.h",
  arm64: "/usr/include/asm-generic/unistd.h",
};

describe("syscall handlers", () => {
  for (const [arch, header] of Object.entries(HEADERS)) {
    test(`the ${arch} numbers are those of the kernel headers, where these have the syscall`, (t) => {
      if (!existsSync(header)) return t.skip(`no ${header}`);
      const fromHeader = headerNumbers(header);
      const table = syscallNumbers(arch) ?? {};
      for (const [syscall, nr] of Object.entries(table)) {
        const expected = fromHeader.get(numberName(syscall));
        // Headers older than the syscall lack it (Debian 12's have no fchmodat2).
        if (expected !== undefined) assert.equal(nr, expected, syscall);
      }
      const known = SYSCALL_HANDLERS.filter((h) => fromHeader.has(numberName(h.syscall))).map((h) => h.syscall);
      assert.deepEqual(
        known.filter((s) => table[s] === undefined),
        [],
        "every handled syscall the header has is in the table",
      );
    });
  }

  test("x86-64 has every handled syscall; arm64 has only the *at forms of the old path calls", () => {
    assert.deepEqual(placeSyscallHandlers("x64", () => true).missing, []);
    const arm64 = placeSyscallHandlers("arm64", () => true);
    assert.deepEqual(arm64.missing.map((h) => h.syscall).sort(), [
      "chmod",
      "chown",
      "creat",
      "lchown",
      "link",
      "mkdir",
      "open",
      "rename",
      "rmdir",
      "symlink",
      "unlink",
    ]);
    assert.ok(arm64.missing.every((h) => h.code === "ENOENT" && h.error === `arm64 has no syscall ${h.syscall}`));
  });

  test("a syscall the kernel was built without is missing, and its handler named", () => {
    const { placed, missing } = placeSyscallHandlers("x64", (s) => !s.endsWith("init_module"));
    assert.deepEqual(missing, [
      {
        program: "vg_module_init",
        syscall: "init_module",
        error: "no syscall init_module in this kernel: tracefs has no sys_exit_init_module",
        code: "ENOENT",
      },
      {
        program: "vg_module_finit",
        syscall: "finit_module",
        error: "no syscall finit_module in this kernel: tracefs has no sys_exit_finit_module",
        code: "ENOENT",
      },
    ]);
    assert.equal(placed.length, SYSCALL_HANDLERS.length - 2);
    assert.deepEqual(
      placed.find((h) => h.syscall === "openat"),
      { program: "vg_file_openat", syscall: "openat", nr: 257 },
    );
  });

  test("on an architecture whose numbers are not known, no handler is placed", () => {
    const { placed, missing } = placeSyscallHandlers("riscv64", () => true);
    assert.deepEqual(placed, []);
    assert.equal(missing.length, SYSCALL_HANDLERS.length);
    assert.ok(missing.every((h) => h.code === "EOPNOTSUPP"));
  });

  test("the table names exactly the sys_exit handlers of the compiled object", (t) => {
    const object = join(bpfObjectDir, "vigil.bpf.o");
    if (!existsSync(object)) return t.skip("BPF objects not built");
    const obj = kernelBridge().openObject(object);
    try {
      const handlers = obj
        .programs()
        .filter((p) => obj.programSection(p) === "tp_btf/sys_exit" && p !== SYSCALL_DISPATCHER.program);
      assert.deepEqual(handlers.sort(), SYSCALL_HANDLERS.map((h) => h.program).sort());
    } finally {
      obj.close();
    }
  });
});
