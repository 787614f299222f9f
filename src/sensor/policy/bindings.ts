import { type CelMap, celMap } from "@bufbuild/cel";
import type { VigilEvent } from "../../events/schema.js";
import { fieldPaths, type ValueType } from "./fields.js";

/**
 * The variables of a rule, for one event at a time.
 *
 * cel-es turns a plain object into a Map of all its entries each time an expression reaches
 * into it: `file.path == '/etc/shadow'` over a whole event cost 1.7 µs, against 0.16 µs when
 * the variable "file.path" could be had directly. CEL resolves a dotted name by trying the
 * longest variable name first, so every dotted path of a kind is a getter here that reads the
 * one field it names from the current event; nothing is copied per event. Integers become
 * bigint (CEL int) as they are read, so `process.uid + 1` and `%` work as users expect.
 */
export interface RuleBindings {
  /** The event being evaluated; set before each evaluation. */
  event: VigilEvent;
}

type Convert = (value: unknown) => unknown;

/** How a value of type `t` is handed to CEL; undefined when it goes as it is. */
function converter(t: ValueType): Convert | undefined {
  switch (t.type) {
    case "int":
      return (v) => (typeof v === "number" ? BigInt(v) : v);
    case "list": {
      const element = converter(t.element);
      return element ? (v) => (Array.isArray(v) ? v.map(element) : v) : undefined;
    }
    case "map":
      return (v) => (v === null || typeof v !== "object" ? v : new Map(Object.entries(v)));
    case "object": {
      const fields = [...t.fields].map(([key, type]) => [key, converter(type)] as const);
      return (v) => {
        if (v === null || typeof v !== "object") return v;
        const map = new Map<string, unknown>();
        for (const [key, convert] of fields) {
          const item = (v as Record<string, unknown>)[key];
          map.set(key, item === undefined ? null : convert ? convert(item) : item);
        }
        return map;
      };
    }
    default:
      return undefined;
  }
}

type Read = (event: VigilEvent) => unknown;

/** Reads a dotted path of an event; null when a field on the way is null. */
export function reader(path: readonly string[]): Read {
  const [a = "", b = "", c = ""] = path;
  const at = (v: unknown, key: string) => (v === null || v === undefined ? null : (v as Record<string, unknown>)[key]);
  switch (path.length) {
    case 1:
      return (e) => (e as unknown as Record<string, unknown>)[a];
    case 2:
      return (e) => at((e as unknown as Record<string, unknown>)[a], b);
    case 3:
      return (e) => at(at((e as unknown as Record<string, unknown>)[a], b), c);
    default:
      return (e) => path.reduce<unknown>(at, e);
  }
}

interface Memo {
  memoEvent: VigilEvent | undefined;
  memo: Map<string, unknown>;
}

const prototypes = new Map<string, object>();

/** Getters for every dotted path of a kind; objects and lists are converted once per event. */
function prototypeOf(kind: string): object {
  let proto = prototypes.get(kind);
  if (proto) return proto;
  proto = {};
  for (const [path, type] of fieldPaths(kind)) {
    const read = reader(path.split("."));
    const convert = converter(type);
    const costly = type.type === "object" || type.type === "map" || (type.type === "list" && convert !== undefined);
    let get: (this: RuleBindings & Memo) => unknown;
    if (!convert) {
      get = function () {
        const v = read(this.event);
        return v === undefined ? null : v;
      };
    } else if (!costly) {
      get = function () {
        const v = read(this.event);
        return v === undefined || v === null ? null : convert(v);
      };
    } else {
      get = function () {
        if (this.memoEvent !== this.event) {
          this.memo.clear();
          this.memoEvent = this.event;
        }
        if (this.memo.has(path)) return this.memo.get(path);
        const v = read(this.event);
        const value = v === undefined || v === null ? null : convert(v);
        this.memo.set(path, value);
        return value;
      };
    }
    Object.defineProperty(proto, path, { get, enumerable: true });
  }
  prototypes.set(kind, proto);
  return proto;
}

/**
 * A list is a set to CEL here: a map from each value to true, so `x in lists.NAME` is one
 * lookup rather than a scan. Integers are keyed as bigint, the type CEL compares them as.
 */
export function listValue(values: readonly (string | number)[]): CelMap {
  return celMap(new Map(values.map((v) => [typeof v === "number" ? BigInt(v) : v, true])));
}

/** The bindings of one policy's rules on events of one kind; `lists` by name. */
export function ruleBindings(kind: string, lists: ReadonlyMap<string, CelMap>): RuleBindings {
  const own: PropertyDescriptorMap = {
    event: { value: undefined, writable: true },
    memoEvent: { value: undefined, writable: true },
    memo: { value: new Map() },
    lists: { value: celMap(new Map(lists)), enumerable: true },
  };
  for (const [name, value] of lists) own[`lists.${name}`] = { value, enumerable: true };
  return Object.create(prototypeOf(kind), own) as RuleBindings;
}
