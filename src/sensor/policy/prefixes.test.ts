import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse } from "@bufbuild/cel";
import { PrefixTable, requiredPrefixes } from "./prefixes.js";

describe("required prefixes", () => {
  const lists = new Map<string, (string | number)[]>([
    ["dirs", ["/etc/", "/root/"]],
    ["names", ["a", "b"]],
    ["ports", [1, 2]],
  ]);
  const read = (when: string, kind = "file.open") =>
    Object.fromEntries(requiredPrefixes(parse(when).expr as never, kind, lists));

  test("what a true condition says of a string field", () => {
    assert.deepEqual(read("file.path.startsWith('/etc/')"), { "file.path": ["/etc/"] });
    assert.deepEqual(read("file.path == '/etc/shadow' && file.write"), { "file.path": ["/etc/shadow"] });
    assert.deepEqual(read("'/etc/shadow' == file.path"), { "file.path": ["/etc/shadow"] });
    assert.deepEqual(read("file.path in lists.dirs"), { "file.path": ["/etc/", "/root/"] });
    assert.deepEqual(read("file.path in ['/x', '/y']"), { "file.path": ["/x", "/y"] });
    assert.deepEqual(read("file.path.matches(r'^/home/[^/]+/\\.ssh/')"), { "file.path": ["/home/"] });
    assert.deepEqual(read("lists.dirs.exists(d, file.path.startsWith(d + 'x'))"), {
      "file.path": ["/etc/x", "/root/x"],
    });
    assert.deepEqual(read("file.path.startsWith('/a') || process.exe == '/b' && file.path == '/c'"), {
      "file.path": ["/a", "/c"],
    });
    assert.deepEqual(read("file.path.startsWith('/a') && process.exe in ['/x', '/y', '/z'] && process.exe == '/x'"), {
      "file.path": ["/a"],
      "process.exe": ["/x"],
    });
  });

  test("nothing where true says nothing: negations, other fields, a side of || without, bound elements", () => {
    assert.deepEqual(read("!file.path.startsWith('/etc/')"), {});
    assert.deepEqual(read("file.path.startsWith('/a') || file.write"), {});
    assert.deepEqual(read("file.path.endsWith('/a')"), {});
    assert.deepEqual(read("file.path.matches('/home/')"), {});
    assert.deepEqual(read("file.path.matches('^[a-z]')"), {});
    assert.deepEqual(read("process.args.exists(a, a.startsWith('/x'))"), {});
    assert.deepEqual(read("lists.names.exists(n, file.path.endsWith(n)) || file.path.startsWith('/a')"), {});
    assert.deepEqual(read("file.result == 3"), {});
    // file.path is no field of process.exec.
    assert.deepEqual(read("process.exe.startsWith('/tmp/')", "process.exec"), { "process.exe": ["/tmp/"] });
  });
});

describe("prefix table", () => {
  test("gives, in order, the items that require nothing and those whose prefix a value has", () => {
    let seed = 3;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const word = () => Array.from({ length: Math.floor(random() * 5) }, () => "/ab"[Math.floor(random() * 3)]).join("");
    for (let round = 0; round < 50; round++) {
      const items = Array.from({ length: 1 + Math.floor(random() * 12) }, (_, id) => ({
        id,
        prefixes: random() < 0.2 ? undefined : Array.from({ length: 1 + Math.floor(random() * 3) }, word),
      }));
      const table = new PrefixTable(items, (item) => item.prefixes);
      for (let i = 0; i < 100; i++) {
        const value = word() + word();
        const expected = items.filter((item) => !item.prefixes || item.prefixes.some((p) => value.startsWith(p)));
        assert.deepEqual(table.candidates(value), expected, `${value} in ${JSON.stringify(items)}`);
      }
    }
  });

  test("an empty table gives every item", () => {
    const table = new PrefixTable(["a", "b"], () => undefined);
    assert.deepEqual(table.candidates("/x"), ["a", "b"]);
  });
});
