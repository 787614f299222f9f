/**
 * JSON with exact 64-bit integers. Event times are nanoseconds since the epoch (> 2^53), held as
 * bigint; JSON.stringify rejects bigint and Node 20 has neither JSON.rawJSON nor the reviver's
 * source text, so both directions are done here.
 */

// Quoted keys, reused: events repeat the same few dozen keys millions of times.
const quotedKeys = new Map<string, string>();
function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = `${JSON.stringify(key)}:`;
    if (quotedKeys.size < 4096) quotedKeys.set(key, quoted);
  }
  return quoted;
}

/**
 * JSON text of any value; bigints become exact integers, undefined members are left out.
 * Written by hand because JSON.stringify rejects bigint. Events have a faster, schema-compiled
 * path in serialize.ts.
 */
export function toJson(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? `${value}` : "null";
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) {
        let out = "[";
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          out += `${i > 0 ? "," : ""}${item === undefined || typeof item === "function" ? "null" : toJson(item)}`;
        }
        return `${out}]`;
      }
      if (typeof (value as { toJSON?: unknown }).toJSON === "function") return JSON.stringify(value);
      let out = "{";
      let first = true;
      for (const key in value) {
        const item = (value as Record<string, unknown>)[key];
        if (item === undefined || typeof item === "function") continue;
        out += `${first ? "" : ","}${quoteKey(key)}${toJson(item)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      return "null";
  }
}

// A string token or an integer too long to be exact as a double; strings are matched whole so
// digits inside them are never touched.
const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d{16,}(?![.eE\d])/g;
const BIG = "\uE000big:";

/** Parses JSON, turning integers that a double cannot hold exactly into bigint. */
export function fromJson(text: string): unknown {
  let marked = false;
  const quoted = text.replace(TOKEN, (token) => {
    if (token.startsWith('"')) return token;
    if (Number.isSafeInteger(Number(token))) return token;
    marked = true;
    return `"${BIG}${token}"`;
  });
  if (!marked) return JSON.parse(text);
  return JSON.parse(quoted, (_key, value) =>
    typeof value === "string" && value.startsWith(BIG) ? BigInt(value.slice(BIG.length)) : value,
  );
}
