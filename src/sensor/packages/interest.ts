import { type InterestSpec, KERNEL_KINDS } from "../kernel/interest.js";
import { ALWAYS_SENT } from "../kernel/interest-union.js";

/**
 * Where packages are installed at paths the kernel's prefix filter can name: Debian's Python
 * packages, the /usr/local trees of Python and Node.js images (their standard library too,
 * which the inventory passes over), global node_modules, Debian's jars, the usual application
 * directories of images, and /opt (virtualenvs, vendor software). Package trees elsewhere
 * (a virtualenv in a home directory, an application's node_modules in a checkout) are added with
 * `--packages-path`; the shared libraries and jars of every process are also read from its
 * mappings, wherever they are.
 */
export const DEFAULT_PACKAGE_PREFIXES: readonly string[] = [
  "/usr/lib/python3/dist-packages/",
  "/usr/local/lib/python3",
  "/usr/lib/node_modules/",
  "/usr/local/lib/node_modules/",
  "/usr/share/java/",
  "/app/",
  "/usr/src/app/",
  "/opt/",
];

/** The opens the inventory needs: reads below each prefix, and nothing else. */
export function packageInterest(prefixes: readonly string[]): InterestSpec {
  const kinds: InterestSpec["kinds"] = {};
  for (const kind of KERNEL_KINDS.keys()) if (!ALWAYS_SENT.has(kind)) kinds[kind] = { enabled: false };
  kinds["file.open"] = {
    enabled: true,
    pathDefault: "none",
    paths: Object.fromEntries(prefixes.map((p) => [p, "read" as const])),
  };
  return { kinds, ignoreComms: [], ignoreExes: [] };
}
