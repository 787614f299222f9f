/**
 * JSON with exact 64-bit integers. Event times are nanoseconds since the epoch (> 2^53), held as
 * bigint; JSON.stringify rejects bigint and Node 20 has neither JSON.rawJSON nor the reviver's
 * source text, so both directions are done here.
 */

export function toJson(value: unknown): string {
  switch (typeof value) {
    case "bigint":
      return value.toString();
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object": {
      if (value === null) return "null";
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? "null" : toJson(v))).join(",")}]`;
      if (value instanceof Uint8Array || typeof (value as { toJSON?: unknown }).toJSON === "function") {
        return JSON.stringify(value);
      }
      let out = "{";
      for (const key in value) {
        const v = (value as Record<string, unknown>)[key];
        if (v === undefined || typeof v === "function") continue;
        out += `${out.length > 1 ? "," : ""}${JSON.stringify(key)}:${toJson(v)}`;
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
