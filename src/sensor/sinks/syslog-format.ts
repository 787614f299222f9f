import type { Alert } from "../../events/alert.js";
import { alertToJson } from "../../events/serialize.js";

/**
 * RFC 5424 syslog messages for alerts, written here rather than taken from npm: the clients
 * there (syslog-client and its forks) write no structured data and frame TCP with newlines, not
 * the octet counting of RFC 6587; the format is a few lines.
 *
 *   <PRI>1 TIMESTAMP HOSTNAME vigil PROCID MSGID [vigil@32473 rule=… policy=… …] {alert JSON}
 *
 * The structured data carries what a SIEM filters on (rule, policy, severity, action, outcome,
 * tags, the message text); the MSG is the alert exactly as the JSON-lines sink writes it, so a
 * collector that decodes JSON (rsyslog's mmjsonparse, syslog-ng's json-parser, Elastic's
 * decode_json_fields) gets every field, the events and their process ancestry. The MSG has no
 * UTF-8 BOM: RFC 5424 allows that (MSG-ANY) and a BOM would stop JSON decoders.
 */

/** Syslog facilities by name (RFC 5424 table 1). */
export const FACILITIES = {
  kern: 0,
  user: 1,
  daemon: 3,
  auth: 4,
  syslog: 5,
  authpriv: 10,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
export type Facility = keyof typeof FACILITIES;

/** Alert severity → syslog severity: critical 2 (crit), high 3 (err), medium 4 (warning), low 5 (notice), info 6. */
export const SYSLOG_SEVERITY: Record<Alert["rule"]["severity"], number> = {
  critical: 2,
  high: 3,
  medium: 4,
  low: 5,
  info: 6,
};

/**
 * The SD-ID. A private SD-ID is name@enterprise-number; 32473 is the number IANA reserves for
 * examples and documentation (RFC 5612), used until the project has one of its own.
 */
export const SD_ID = "vigil@32473";

export interface SyslogHeader {
  facility: Facility;
  /** HOSTNAME: this host's name. */
  hostname: string;
  /** PROCID: the sensor's pid. */
  procId: number;
}

/** A header field: printable US-ASCII without spaces, at most max characters; "-" when empty. */
function headerField(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, "_").slice(0, max);
  return clean === "" ? "-" : clean;
}

/** A PARAM-VALUE: UTF-8, with '"', '\' and ']' escaped (RFC 5424 6.3.3). */
function paramValue(value: string): string {
  return value.replace(/["\\\]]/g, "\\$&");
}

/** Nanoseconds since the epoch as an RFC 3339 time in UTC with microseconds, the finest RFC 5424 allows. */
export function syslogTime(ns: bigint): string {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString();
  const micros = String((ns / 1000n) % 1_000_000n).padStart(6, "0");
  return `${iso.slice(0, 19)}.${micros}Z`;
}

/** One alert as an RFC 5424 message, without framing. */
export function formatSyslog(alert: Alert, header: SyslogHeader): string {
  const pri = FACILITIES[header.facility] * 8 + SYSLOG_SEVERITY[alert.rule.severity];
  const params: [string, string][] = [
    ["rule", alert.rule.id],
    ["policy", alert.rule.policy],
    ["severity", alert.rule.severity],
    ["action", alert.action],
    ["outcome", alert.outcome],
    ["tags", alert.rule.tags.join(",")],
    ["message", alert.message],
  ];
  const sd = `[${SD_ID}${params.map(([k, v]) => ` ${k}="${paramValue(v)}"`).join("")}]`;
  return [
    `<${pri}>1`,
    syslogTime(alert.time),
    headerField(header.hostname, 255),
    "vigil",
    String(header.procId),
    // MSGID is at most 32 characters; the whole rule id is in the structured data.
    headerField(alert.rule.id, 32),
    sd,
    alertToJson(alert),
  ].join(" ");
}
