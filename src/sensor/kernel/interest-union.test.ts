import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { BpfObject } from "./bridge.js";
import { type Access, applyInterest, type InterestSpec, KERNEL_KINDS, type KindInterest } from "./interest.js";
import { accessBits, kindInterest, pathVerdict, unionInterest, unionKind } from "./interest-union.js";
import { enums, structs } from "./layout.generated.js";

const PATHS = [
  "/",
  "/a",
  "/a/",
  "/a/b",
  "/a/b/",
  "/a/b/c",
  "/a/c",
  "/a/bc/d",
  "/a/bx",
  "/etc/shadow",
  "/etc/passwd",
  "/x/y",
  "/z",
];
const OPEN = KERNEL_KINDS.get("file.open") as number;
const SPLIT = enums.vg_path_access.VG_PATH_SPLIT;
const SPLIT_LEN = enums.vg_path_access.VG_PATH_SPLIT_LEN;
const ACCESS_BITS = enums.vg_path_access.VG_ACCESS_ANY;
/** What the fake's lookup returns for a kind that is off. */
const KIND_OFF = -1;

const spec = (open: KindInterest): InterestSpec => ({ kinds: { "file.open": open }, ignoreComms: [], ignoreExes: [] });

const SPECS: KindInterest[] = [
  { enabled: true },
  { enabled: false },
  { enabled: true, pathDefault: "none", paths: { "/a/": "read", "/a/b/": "any" } },
  { enabled: true, pathDefault: "none", paths: { "/a/": "none", "/a/b/": "any", "/etc/shadow": "read" } },
  { enabled: true, pathDefault: "any", paths: { "/x/": "none", "/a/b/": "write" } },
  { enabled: true, pathDefault: "write", paths: { "/etc/": "any", "/a/": "any" } },
  { enabled: true, pathDefault: "read" },
  { enabled: true, pathDefault: "none", paths: { "/a/b": "read", "/a/bc/": "any", "/": "write" } },
];

describe("unions of interests", () => {
  test("the union sends on every path exactly what either sends", () => {
    for (const a of SPECS) {
      for (const b of SPECS) {
        const u = unionKind(a, b);
        for (const path of PATHS) {
          const either = accessBits(pathVerdict(a, path)) | accessBits(pathVerdict(b, path));
          assert.equal(accessBits(pathVerdict(u, path)), either, `${JSON.stringify([a, b])} at ${path}`);
        }
      }
    }
  });

  test("a kind absent from either spec is sent whole; only processes both ignore stay ignored", () => {
    const a: InterestSpec = {
      kinds: { "net.connect": { enabled: false } },
      ignoreComms: ["cron", "sshd"],
      ignoreExes: [],
    };
    const b: InterestSpec = { kinds: {}, ignoreComms: ["cron"], ignoreExes: [] };
    const u = unionInterest(a, b);
    assert.deepEqual(kindInterest(u, "net.connect"), { enabled: true });
    assert.deepEqual(u.ignoreComms, ["cron"]);
  });
});

/**
 * vg_kinds and vg_paths as the kernel holds them, with the file.open verdict of every sample
 * path checked after each map operation.
 */
class FakeMaps {
  readonly maps = new Map<string, Map<string, Buffer>>();
  onChange: () => void = () => {};

  object(): BpfObject {
    const table = (name: string) => {
      const m = this.maps.get(name) ?? new Map<string, Buffer>();
      this.maps.set(name, m);
      return m;
    };
    return {
      mapUpdate: (map: string, key: Buffer, value: Buffer) => {
        table(map).set(key.toString("hex"), Buffer.from(value));
        this.onChange();
      },
      mapDelete: (map: string, key: Buffer) => {
        const had = table(map).delete(key.toString("hex"));
        this.onChange();
        return had;
      },
      mapNextKey: (map: string, key: Buffer | null) => {
        const keys = [...table(map).keys()];
        const next = key === null ? keys[0] : keys[keys.indexOf(key.toString("hex")) + 1];
        return next === undefined ? null : Buffer.from(next, "hex");
      },
    } as unknown as BpfObject;
  }

  /** The kernel's verdict on an open of `path` (lib/filter.h: vg_interest, vg_path_wanted). */
  verdict(path: string): number {
    const found = this.lookup(path);
    return found === KIND_OFF ? 0 : found & ACCESS_BITS;
  }

  /**
   * The verdict on an open of `path` decided from its directory as a successful open is
   * (lib/file-path.h: vg_file_open_verdict): the directory's entry, unless it is marked split.
   */
  verdictByDirectory(path: string): number {
    const dir = path.slice(0, path.lastIndexOf("/") + 1);
    const found = this.lookup(dir);
    if (found === KIND_OFF) return 0;
    return found & SPLIT && found >> SPLIT_LEN === dir.length ? this.verdict(path) : found & ACCESS_BITS;
  }

  /** The longest prefix's value for `path` (SPLIT bit included), or the kind's default. */
  private lookup(path: string): number {
    const kind = this.maps.get("vg_kinds")?.get(Buffer.from([OPEN, 0, 0, 0]).toString("hex"));
    if (!kind || kind.readUInt32LE(0) === 0) return KIND_OFF;
    let verdict = kind.readUInt32LE(4);
    if (kind.readUInt32LE(8) === 0) return verdict;
    const pathAt = structs.vg_path_key.fields.path.offset;
    let best = -1;
    for (const [hex, value] of this.maps.get("vg_paths") ?? []) {
      const key = Buffer.from(hex, "hex");
      const prefix = key.subarray(pathAt, pathAt + (key.readUInt32LE(0) / 8 - 1)).toString();
      if (key[4] === OPEN && path.startsWith(prefix) && prefix.length > best) {
        best = prefix.length;
        verdict = value.readUInt32LE(0);
      }
    }
    return verdict;
  }
}

describe("applyInterest moves from one spec to another", () => {
  test("at every step each path has the old verdict or the new one", () => {
    for (const from of SPECS) {
      for (const to of SPECS) {
        const fake = new FakeMaps();
        const obj = fake.object();
        applyInterest(obj, spec(from), 1);
        const old = (p: string) => accessBits(pathVerdict(from, p));
        const next = (p: string) => accessBits(pathVerdict(to, p));
        for (const p of PATHS) assert.equal(fake.verdict(p), old(p), `written ${JSON.stringify(from)} at ${p}`);
        let steps = 0;
        fake.onChange = () => {
          steps++;
          for (const p of PATHS) {
            for (const v of [fake.verdict(p), fake.verdictByDirectory(p)]) {
              assert.ok(
                v === old(p) || v === next(p),
                `${JSON.stringify(from)} → ${JSON.stringify(to)}, step ${steps}: ${p} gets ${v}`,
              );
            }
          }
        };
        applyInterest(obj, spec(to), 1);
        for (const p of PATHS) {
          assert.equal(fake.verdict(p), next(p), `written ${JSON.stringify(to)} at ${p}`);
          assert.equal(fake.verdictByDirectory(p), next(p), `written ${JSON.stringify(to)} at ${p}, by directory`);
        }
      }
    }
  });

  test("through the union first, no step sends less than the spec in force wants", () => {
    const access = (a: Access) => accessBits(a);
    for (const from of SPECS) {
      for (const to of SPECS) {
        const fake = new FakeMaps();
        const obj = fake.object();
        applyInterest(obj, spec(from), 1);
        const union = unionKind(from, to);
        let wanted = from;
        fake.onChange = () => {
          for (const p of PATHS) {
            const need = access(pathVerdict(wanted, p));
            assert.equal(fake.verdict(p) & need, need, `${JSON.stringify(from)} → ${JSON.stringify(to)} at ${p}`);
          }
        };
        applyInterest(obj, spec(union), 1);
        // The policies' swap happens here: from now on the new spec is what rules need.
        wanted = to;
        applyInterest(obj, spec(to), 1);
      }
    }
  });
});
