/** The package ecosystems the inventory tells apart. */
export type Ecosystem = "python" | "npm" | "maven" | "go" | "deb";

/** One package release: what vulnerability databases are keyed by. */
export interface PackageId {
  ecosystem: Ecosystem;
  name: string;
  version: string;
}

export const packageKey = (p: PackageId): string => `${p.ecosystem}\0${p.name}\0${p.version}`;

/**
 * A package's metadata that is there but cannot be read as expected: the inventory logs it
 * once, with the file and the problem, counts it, and goes on.
 */
export class PackageMetadataError extends Error {
  override name = "PackageMetadataError";
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** The message of an fs error without the path Node repeats in it. */
export function fsProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}${e.syscall ? ` (${e.syscall})` : ""}` : String((err as Error)?.message ?? err);
}

/** A string of its own: a substring that is kept would keep the whole file's text alive. */
export const flat = (s: string): string => Buffer.from(s).toString();
