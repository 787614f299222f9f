import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The installation root: the checkout, or the package's directory (holds bpf/ and native/). */
export const installRoot: string = (() => {
  const env = process.env.VIGIL_HOME;
  if (env) return resolve(env);
  let dir = dirname(fileURLToPath(import.meta.url));
  while (dir !== "/" && !existsSync(join(dir, "package.json"))) dir = dirname(dir);
  return dir;
})();

/** Compiled BPF objects. */
export const bpfObjectDir = join(installRoot, "bpf/.output");
