import { readFileSync, statSync } from "node:fs";

/**
 * User names by uid from a passwd file, re-read only when the file changes. Names come from the
 * sensor's own view of /etc/passwd: users known only to a directory service (LDAP, sssd) stay
 * nameless rather than costing a lookup per request.
 */
export class UserNames {
  private names = new Map<number, string>();
  private stamp = "";

  constructor(private readonly path = "/etc/passwd") {}

  get(uid: number): string | undefined {
    this.refresh();
    return this.names.get(uid);
  }

  private refresh(): void {
    try {
      const st = statSync(this.path);
      const stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (stamp === this.stamp) return;
      this.names = parsePasswd(readFileSync(this.path, "utf8"));
      this.stamp = stamp;
    } catch {
      this.names = new Map();
      this.stamp = "";
    }
  }
}

/** name:password:uid:...; the first name of a uid wins, as getpwuid(3) would answer. */
export function parsePasswd(text: string): Map<number, string> {
  const names = new Map<number, string>();
  for (const line of text.split("\n")) {
    const [name, , uid] = line.split(":");
    if (!name || uid === undefined || !/^\d+$/.test(uid)) continue;
    const n = Number(uid);
    if (!names.has(n)) names.set(n, name);
  }
  return names;
}
