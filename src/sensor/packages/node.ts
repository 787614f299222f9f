import { readFile } from "node:fs/promises";
import { fsProblem, type PackageId, PackageMetadataError } from "./package.js";

const MODULES = "/node_modules/";

/** The package directory a file below node_modules belongs to (the innermost one), with its slash. */
export function nodePackageDir(path: string): string | undefined {
  const at = path.lastIndexOf(MODULES);
  if (at < 0) return undefined;
  const start = at + MODULES.length;
  let end = path.indexOf("/", start);
  if (end < 0) return undefined;
  if (path[start] === "@") end = path.indexOf("/", end + 1);
  if (end < 0) return undefined;
  const name = path.slice(start, end);
  if (name === ".bin" || name.startsWith(".")) return undefined;
  return path.slice(0, end + 1);
}

/** name and version of the package.json in `dir`, read through `root`. */
export async function readNodePackage(root: string, dir: string): Promise<PackageId> {
  const file = `${root}${dir}package.json`;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new PackageMetadataError(file, fsProblem(err));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new PackageMetadataError(file, `not JSON: ${(err as Error).message}`);
  }
  const { name, version } = (json ?? {}) as { name?: unknown; version?: unknown };
  if (typeof name !== "string" || !name) throw new PackageMetadataError(file, "no name");
  if (typeof version !== "string" || !version) throw new PackageMetadataError(file, "no version");
  return { ecosystem: "npm", name, version };
}
