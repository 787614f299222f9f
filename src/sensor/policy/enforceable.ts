import { isIP } from "node:net";
import type { Expr } from "@bufbuild/cel-spec/cel/expr/syntax_pb.js";
import { parseCidr } from "./cidr.js";
import type { Lists } from "./kernel-part.js";
import { constant, pathOf } from "./prefilter.js";

/**
 * Whether the kernel can decide a condition exactly, read from its tree after macros are
 * spliced in. A `deny` rule is decided where the operation is stopped (a BPF-LSM hook, a
 * fanotify permission event, a cgroup socket program), before any event reaches user space,
 * so its condition and its exceptions must be in this subset or the rule is rejected; a `kill`
 * rule in the subset can be decided in the kernel, any other is decided in user space after
 * detection.
 *
 * Unlike the kernel prefilter (kernel-part.ts), which may send more than a rule matches,
 * enforcement may not widen: everything outside the subset is a problem, named by its node.
 *
 * The subset: `true`, `false`; a field the kernel sees for the kind (below) compared with
 * constants: `==`, `!=`, `in` a list literal of constants or `lists.NAME`, and for paths and
 * names `startsWith` and `endsWith`, for addresses `inCidr` (cidr.ts) with a range, a list literal
 * of ranges or `lists.NAME`; `&&`, `||`, `!` and `?:` of those. Addresses are compared as IP
 * addresses, whole with `==` and `in`, by range with `inCidr`.
 */

/**
 * The kinds a deny rule can stop before the operation takes effect, and how, from DESIGN.md's
 * enforcement table. Every other kind is only seen once done (kill comes after the syscall) or
 * could only be stopped by BPF-LSM, which many hosts refuse: a deny rule on it is rejected.
 */
export const DENIABLE: ReadonlyMap<string, string> = new Map([
  ["process.exec", "BPF-LSM bprm_check_security, fanotify FAN_OPEN_EXEC_PERM, or SIGKILL at exec by inode"],
  ["file.open", "BPF-LSM file_open or fanotify FAN_OPEN_PERM"],
  ["net.connect", "BPF-LSM socket_connect or cgroup connect4/6 (sendmsg4/6 for UDP)"],
  ["net.bind", "BPF-LSM socket_bind or cgroup bind4/6"],
  // Without BPF-LSM these are only stopped by killing the process, after the call completed:
  // enforcement reports that as such.
  ["file.unlink", "BPF-LSM path_unlink; else SIGKILL after the call"],
  ["file.rename", "BPF-LSM path_rename; else SIGKILL after the call"],
  ["file.chmod", "BPF-LSM path_chmod; else SIGKILL after the call"],
  ["kernel.module_load", "BPF-LSM kernel_read_file / kernel_module_request; else SIGKILL after the call"],
]);

/** How the kernel compares a field: paths and names whole or by their ends, ids and addresses whole. */
type FieldClass = "path" | "name" | "id" | "address";

/** What the kernel knows of the process at every hook. */
const PROCESS_FIELDS: [string, FieldClass][] = [
  ["process.exe", "path"],
  ["process.comm", "name"],
  ["process.uid", "id"],
  ["process.euid", "id"],
  ["process.gid", "id"],
];

/**
 * The fields of each kind's own part that the kernel sees where it would decide. file.open's
 * `requested` (the path as spelled) is left out: the hooks that stop an open see the file it
 * reached, and a rule on the spelling is got around by a link or a relative path. Its access
 * (`file.write`, `file.create`) is left out too: a fanotify permission event does not carry the
 * opener's flags.
 */
const FILE_PATH: [string, FieldClass][] = [["file.path", "path"]];
const OLD_AND_NEW: [string, FieldClass][] = [
  ["file.old_path", "path"],
  ["file.new_path", "path"],
];
const KIND_FIELDS: ReadonlyMap<string, [string, FieldClass][]> = new Map([
  ...["file.open", "file.unlink", "file.chmod", "file.chown", "file.symlink", "file.mkdir", "file.truncate"].map(
    (kind): [string, [string, FieldClass][]] => [kind, FILE_PATH],
  ),
  ["file.rename", OLD_AND_NEW],
  ["file.link", OLD_AND_NEW],
  [
    "net.connect",
    [
      ["net.remote.address", "address"],
      ["net.remote.port", "id"],
    ],
  ],
  [
    "net.bind",
    [
      ["net.local.address", "address"],
      ["net.local.port", "id"],
    ],
  ],
]);

/** The fields the kernel can test on events of `kind`, with how it compares them. */
export function kernelFields(kind: string): ReadonlyMap<string, FieldClass> {
  return new Map([...(KIND_FIELDS.get(kind) ?? []), ...PROCESS_FIELDS]);
}

/** A sub-expression outside the subset, and why. */
export interface OutsideKernel {
  node: Expr;
  why: string;
}

const COMPREHENSION = "comprehensions (exists, all, exists_one, map, filter) cannot run in the kernel";

/** The operators as written, for messages. */
const OPERATORS: Record<string, string> = {
  "_<_": "<",
  "_<=_": "<=",
  "_>_": ">",
  "_>=_": ">=",
  "_+_": "+",
  "_-_": "-",
  "_*_": "*",
  "_/_": "/",
  "_%_": "%",
  "-_": "negation",
  "_[_]": "indexing",
};

/**
 * The parts of `expr` the kernel cannot decide for events of `kind`, outermost first; empty
 * when the whole condition is in the subset.
 */
export function outsideKernel(expr: Expr, kind: string, lists: Lists): OutsideKernel[] {
  const fields = kernelFields(kind);
  const out: OutsideKernel[] = [];
  const bad = (node: Expr, why: string): void => {
    out.push({ node, why });
  };
  const can = `the kernel cannot test this field on ${kind}; it can test ${[...fields.keys()].join(", ")}`;

  /** A field the kernel sees, with its class; a problem for a field it does not see. */
  const field = (e: Expr | undefined): FieldClass | undefined => {
    const path = pathOf(e)?.join(".");
    if (path === undefined || !e) return undefined;
    const known = fields.get(path);
    if (!known) bad(e, can);
    return known;
  };
  const isField = (e: Expr | undefined) => {
    const path = pathOf(e);
    return path !== undefined && path[0] !== "lists";
  };

  /** A constant the kernel can compare a field of `cls` with. */
  const value = (cls: FieldClass, e: Expr) => {
    const c = constant(e);
    if (c === undefined) return other(e);
    if (c === null) return bad(e, "a comparison with null cannot run in the kernel");
    if (cls === "address" && typeof c === "string" && isIP(c) === 0) bad(e, notAddress(c));
  };

  /** Why a node that is not a comparison of a field with constants is outside. */
  const other = (e: Expr) => {
    const kind = e.exprKind;
    if (kind.case === "comprehensionExpr") return bad(e, COMPREHENSION);
    if (kind.case === "selectExpr" && kind.value.testOnly) return bad(e, "has() cannot run in the kernel");
    if (isField(e)) {
      if (field(e)) bad(e, "a field on its own cannot run in the kernel: compare it with constants");
      return;
    }
    if (kind.case === "callExpr") {
      const fn = kind.value.function;
      const name = OPERATORS[fn] ?? `${fn}()`;
      return bad(e, `${name} cannot run in the kernel; it tests ==, !=, in, startsWith, endsWith and inCidr`);
    }
    bad(e, "only fields compared with constants or lists can run in the kernel");
  };

  const comparison = (e: Expr, a: Expr | undefined, b: Expr | undefined) => {
    if (!a || !b) return other(e);
    if (isField(a) && isField(b)) return bad(e, "the kernel compares a field with constants, not with another field");
    const [f, v] = isField(b) ? [b, a] : [a, b];
    if (!isField(f)) return other(constant(a) === undefined ? a : b);
    const cls = field(f);
    if (cls) value(cls, v);
  };

  const membership = (e: Expr, a: Expr | undefined, b: Expr | undefined) => {
    if (!a || !b) return other(e);
    if (!isField(a)) return other(a);
    const cls = field(a);
    if (!cls) return;
    const list = pathOf(b);
    if (list?.[0] === "lists" && list.length === 2) {
      if (cls === "address") {
        const wrong = (lists.get(list[1] as string) ?? []).find((x) => typeof x !== "string" || isIP(x) === 0);
        if (wrong !== undefined) bad(b, `its value ${notAddress(String(wrong))}`);
      }
      return;
    }
    if (b.exprKind.case !== "listExpr") return other(b);
    for (const element of b.exprKind.value.elements) value(cls, element);
  };

  const affix = (e: Expr, fn: string, target: Expr | undefined, arg: Expr | undefined) => {
    if (!target || !arg || !isField(target)) return other(e);
    const cls = field(target);
    if (!cls) return;
    if (cls === "address" || cls === "id") {
      return bad(e, `${fn}() cannot run in the kernel on ${pathOf(target)?.join(".")}: it is compared whole`);
    }
    value(cls, arg);
  };

  /** `address.inCidr(ranges)`: ranges a constant, a list literal of constants, or lists.NAME. */
  const cidr = (e: Expr, target: Expr | undefined, arg: Expr | undefined) => {
    if (!target || !arg || !isField(target)) return other(e);
    const cls = field(target);
    if (!cls) return;
    if (cls !== "address") return bad(e, `inCidr() tests addresses, not ${pathOf(target)?.join(".")}`);
    const check = (node: Expr, v: unknown) => {
      const parsed = typeof v === "string" ? parseCidr(v) : `${String(v)} is not a CIDR range`;
      if (typeof parsed === "string") bad(node, parsed);
    };
    const list = pathOf(arg);
    if (list?.[0] === "lists" && list.length === 2) {
      for (const v of lists.get(list[1] as string) ?? []) check(arg, v);
      return;
    }
    if (arg.exprKind.case === "listExpr") {
      for (const element of arg.exprKind.value.elements) {
        const c = constant(element);
        if (c === undefined) other(element);
        else check(element, c);
      }
      return;
    }
    const c = constant(arg);
    if (c === undefined) return other(arg);
    check(arg, c);
  };

  const visit = (e: Expr) => {
    if (typeof constant(e) === "boolean") return;
    if (e.exprKind.case !== "callExpr") return other(e);
    const { function: fn, args, target } = e.exprKind.value;
    switch (fn) {
      case "_&&_":
      case "_||_":
      case "!_":
      case "_?_:_":
        for (const arg of args) visit(arg);
        return;
      case "_==_":
      case "_!=_":
        return comparison(e, args[0], args[1]);
      case "@in":
        return membership(e, args[0], args[1]);
      case "startsWith":
      case "endsWith":
        return affix(e, fn, target, args[0]);
      case "inCidr":
        return cidr(e, target, args[0]);
      default:
        return other(e);
    }
  };
  visit(expr);
  return out;
}

function notAddress(value: string): string {
  const cidr = value.includes("/") ? ` (for a range, write address.inCidr('${value}'))` : "";
  return `'${value}' is not an IP address, and the kernel compares addresses as such${cidr}`;
}

/** Why a deny rule on `kind` cannot be, or undefined when it can. */
export function notDeniable(kind: string): string | undefined {
  if (DENIABLE.has(kind)) return undefined;
  return `${kind} cannot be denied before it happens on this design; use kill or alert`;
}
