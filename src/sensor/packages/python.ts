import { readdir, readFile } from "node:fs/promises";
import { flat, fsProblem, type PackageId, PackageMetadataError } from "./package.js";

/** A file below a Python site directory: the directory, and the top-level name it belongs to. */
export interface PythonFile {
  /** ".../site-packages/" or ".../dist-packages/", with the slash. */
  site: string;
  /** The first path component below the site: a package directory, or a module file. */
  top: string;
}

const SITE = /\/(?:site|dist)-packages\//g;

/** Where `path` sits in a Python site directory; undefined when it is not below one. */
export function pythonFile(path: string): PythonFile | undefined {
  let end = -1;
  // The innermost site directory wins (a virtualenv's vendored tree inside another's).
  for (const m of path.matchAll(SITE)) end = m.index + m[0].length;
  if (end < 0) return undefined;
  const slash = path.indexOf("/", end);
  let top = slash < 0 ? path.slice(end) : path.slice(end, slash);
  // A top-level module's compiled form: __pycache__/six.cpython-311.pyc is six.py's.
  if (top === "__pycache__" && slash >= 0) top = `${path.slice(slash + 1).split(".")[0]}.py`;
  if (!top || top === "__pycache__" || top.endsWith(".dist-info") || top.endsWith(".egg-info")) return undefined;
  return { site: path.slice(0, end), top };
}

/** `Name` and `Version` of a METADATA or PKG-INFO file (RFC 822 headers, up to the first blank line). */
export function parseCoreMetadata(text: string, file: string): { name: string; version: string } {
  let name: string | undefined;
  let version: string | undefined;
  for (const line of text.split("\n")) {
    if (line.trim() === "") break;
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const key = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === "name") name = value;
    else if (key === "version") version = value;
  }
  if (!name) throw new PackageMetadataError(file, "no Name header");
  if (!version) throw new PackageMetadataError(file, "no Version header");
  return { name: flat(name), version: flat(version) };
}

/**
 * The top-level names each distribution of a site directory installed: the first path component
 * of every RECORD line (the installer's own list of what it wrote), else top_level.txt (older
 * setuptools installs). A path leaving the site ("../../../bin/x") is a script, not importable.
 */
function topNames(record: string | undefined, topLevel: string | undefined): Set<string> {
  const names = new Set<string>();
  if (record !== undefined) {
    for (const line of record.split("\n")) {
      // RECORD is CSV; a path with a comma is quoted.
      const path = line.startsWith('"') ? line.slice(1, line.indexOf('"', 1)) : line.slice(0, line.indexOf(","));
      if (!path || path.startsWith("..") || path.startsWith("/")) continue;
      const slash = path.indexOf("/");
      const top = slash < 0 ? path : path.slice(0, slash);
      if (top !== "__pycache__" && !top.endsWith(".dist-info") && !top.endsWith(".egg-info")) names.add(flat(top));
    }
  } else if (topLevel !== undefined) {
    for (const line of topLevel.split("\n")) {
      const name = line.trim();
      // top_level.txt names importable names; the file may be a module or a package directory.
      if (name) for (const n of [name, `${name}.py`]) names.add(n);
    }
  }
  return names;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new PackageMetadataError(file, fsProblem(err));
  }
}

/**
 * The distributions installed in one site directory, read through `root` (a process's
 * /proc/<pid>/root, or "" on the host): top-level name → distribution. A distribution whose
 * metadata is unreadable is reported to `problem` and left out; the others are still read.
 */
export async function readPythonSite(
  root: string,
  site: string,
  problem: (err: PackageMetadataError) => void,
): Promise<Map<string, PackageId>> {
  const dir = root + site;
  const byTop = new Map<string, PackageId>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new PackageMetadataError(dir, fsProblem(err));
  }
  for (const entry of names) {
    const dist = entry.endsWith(".dist-info") ? "METADATA" : entry.endsWith(".egg-info") ? "PKG-INFO" : undefined;
    if (!dist) continue;
    try {
      const metaFile = `${dir}${entry}/${dist}`;
      const meta = await readOptional(metaFile);
      if (meta === undefined) throw new PackageMetadataError(metaFile, "missing");
      const { name, version } = parseCoreMetadata(meta, metaFile);
      const record = await readOptional(`${dir}${entry}/${dist === "METADATA" ? "RECORD" : "installed-files.txt"}`);
      const tops =
        dist === "METADATA"
          ? topNames(record, await readOptional(`${dir}${entry}/top_level.txt`))
          : topNames(undefined, await readOptional(`${dir}${entry}/top_level.txt`));
      for (const top of tops) byTop.set(top, { ecosystem: "python", name, version });
    } catch (err) {
      if (err instanceof PackageMetadataError) problem(err);
      else throw err;
    }
  }
  return byTop;
}
