import { readdir, readFile, stat } from "node:fs/promises";
import { flat, fsProblem, type PackageId, PackageMetadataError } from "./package.js";

/** Whether a path names a shared library (libz.so.1.2.13, libfoo.so, foo.cpython-311-x86_64-linux-gnu.so). */
export const isSharedLibrary = (path: string): boolean => /\.so(?:\.[0-9][^/]*)?$/.test(path);

const DPKG = "/var/lib/dpkg";

/** Package name (with `:arch` for Multi-Arch: same packages, as their .list files are named) → version. */
export function parseDpkgStatus(text: string): Map<string, string> {
  const versions = new Map<string, string>();
  for (const stanza of text.split(/\n\n+/)) {
    let name: string | undefined;
    let version: string | undefined;
    let arch: string | undefined;
    let multiArchSame = false;
    let installed = false;
    for (const line of stanza.split("\n")) {
      if (line.startsWith("Package: ")) name = line.slice(9).trim();
      else if (line.startsWith("Version: ")) version = line.slice(9).trim();
      else if (line.startsWith("Architecture: ")) arch = line.slice(14).trim();
      else if (line.startsWith("Multi-Arch: ")) multiArchSame = line.slice(12).trim() === "same";
      else if (line.startsWith("Status: ")) installed = line.endsWith(" installed");
    }
    if (!name || !version || !installed) continue;
    versions.set(name, version);
    if (multiArchSame && arch) versions.set(`${name}:${arch}`, version);
  }
  return versions;
}

/** The other spelling of a path on a merged-/usr system (/lib/x → /usr/lib/x and back). */
function usrMergeAlias(path: string): string | undefined {
  if (/^\/(?:lib|lib32|lib64|libx32|bin|sbin)\//.test(path)) return `/usr${path}`;
  if (/^\/usr\/(?:lib|lib32|lib64|libx32|bin|sbin)\//.test(path)) return path.slice(4);
  return undefined;
}

interface DpkgIndex {
  statusMtimeMs: number;
  /** Shared library path → owning package; only libraries, so a host's index stays small. */
  owners: Map<string, PackageId>;
}

/**
 * Which Debian package installed a shared library, from dpkg's database below a root: the
 * `info/*.list` files (every path each package installed) and `status` (versions). Read once per
 * root and again when `status` changes (an install or removal rewrites it).
 */
export class DpkgDatabase {
  private readonly indexes = new Map<string, Promise<DpkgIndex | null>>();
  /** Roots read; for the statistics. */
  reads = 0;

  constructor(private readonly problem: (err: PackageMetadataError) => void) {}

  /** The package owning `path` below `root` ("" for the host); undefined when none does or there is no dpkg. */
  async owner(root: string, cacheKey: string, path: string): Promise<PackageId | undefined> {
    let index = await this.indexes.get(cacheKey);
    const mtime = await statusMtime(root);
    if (index === undefined || (index && index.statusMtimeMs !== mtime)) {
      const reading = mtime === undefined ? Promise.resolve(null) : this.read(root, mtime);
      this.indexes.set(cacheKey, reading);
      index = await reading;
    }
    if (!index) return undefined;
    const alias = usrMergeAlias(path);
    return index.owners.get(path) ?? (alias === undefined ? undefined : index.owners.get(alias));
  }

  /** Forgets a root's index (a container that is gone). */
  forget(cacheKey: string): void {
    this.indexes.delete(cacheKey);
  }

  get roots(): number {
    return this.indexes.size;
  }

  private async read(root: string, statusMtimeMs: number): Promise<DpkgIndex | null> {
    this.reads++;
    const statusFile = `${root}${DPKG}/status`;
    let versions: Map<string, string>;
    let lists: string[];
    try {
      versions = parseDpkgStatus(await readFile(statusFile, "utf8"));
      lists = (await readdir(`${root}${DPKG}/info`)).filter((f) => f.endsWith(".list"));
    } catch (err) {
      this.problem(new PackageMetadataError(statusFile, fsProblem(err)));
      return null;
    }
    const owners = new Map<string, PackageId>();
    for (const list of lists) {
      const pkg = list.slice(0, -".list".length);
      const version = versions.get(pkg);
      if (version === undefined) continue; // removed, its list left behind
      // Copies, as below: slices would keep the status file's text alive.
      const id: PackageId = { ecosystem: "deb", name: flat(pkg.replace(/:.*$/, "")), version: flat(version) };
      let text: string;
      try {
        text = await readFile(`${root}${DPKG}/info/${list}`, "utf8");
      } catch (err) {
        this.problem(new PackageMetadataError(`${root}${DPKG}/info/${list}`, fsProblem(err)));
        continue;
      }
      for (const line of text.split("\n")) {
        // A copy: a substring would keep the whole list file's text alive.
        if (isSharedLibrary(line)) owners.set(flat(line), id);
      }
    }
    return { statusMtimeMs, owners };
  }
}

async function statusMtime(root: string): Promise<number | undefined> {
  try {
    return (await stat(`${root}${DPKG}/status`)).mtimeMs;
  } catch {
    return undefined;
  }
}
