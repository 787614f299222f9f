import type { Entry, ZipFile } from "yauzl";
import { type PackageId, PackageMetadataError } from "./package.js";

/** Whether a path names a Java archive whose metadata says what it is. */
export const isJavaArchive = (path: string): boolean => /\.(?:jar|war|ear)$/.test(path);

/** Entries read from an archive are small text files; anything larger is not what it claims. */
const MAX_ENTRY_BYTES = 64 * 1024;
/** Shaded ("fat") archives carry the pom.properties of every library bundled in them. */
const MAX_POMS = 256;

const POM = /^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/;
const MANIFEST = "META-INF/MANIFEST.MF";

/** The main section of a MANIFEST.MF: headers up to the first blank line, continuation lines joined. */
export function parseManifest(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  let last: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    if (line.startsWith(" ") && last !== undefined) {
      headers.set(last, (headers.get(last) ?? "") + line.slice(1));
      continue;
    }
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    last = line.slice(0, colon).trim();
    headers.set(last, line.slice(colon + 1).trim());
  }
  return headers;
}

/** `key=value` lines of a .properties file (the Maven plugin writes no escapes worth handling). */
export function parseProperties(text: string): Map<string, string> {
  const props = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (!t || t.startsWith("#") || t.startsWith("!")) continue;
    const eq = t.search(/[=:]/);
    if (eq > 0) props.set(t.slice(0, eq).trim(), t.slice(eq + 1).trim());
  }
  return props;
}

async function openZip(file: string): Promise<ZipFile> {
  // Loaded with the first archive: a host without Java never pays for the zip reader.
  const { default: yauzl } = await import("yauzl");
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: false }, (err, zip) => (err ? reject(err) : resolve(zip)));
  });
}

function readEntry(zip: ZipFile, entry: Entry): Promise<string> {
  return new Promise((resolve, reject) => {
    if (entry.uncompressedSize > MAX_ENTRY_BYTES) {
      reject(new Error(`${entry.fileName} is ${entry.uncompressedSize} bytes, more than ${MAX_ENTRY_BYTES}`));
      return;
    }
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.once("error", reject);
      stream.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    });
  });
}

/** The pom.properties and MANIFEST.MF texts of an archive. */
async function metadataEntries(file: string): Promise<{ poms: string[]; manifest?: string }> {
  const zip = await openZip(file);
  try {
    return await new Promise((resolve, reject) => {
      const poms: string[] = [];
      let manifest: string | undefined;
      zip.once("error", reject);
      zip.once("end", () => resolve({ poms, ...(manifest !== undefined && { manifest }) }));
      zip.on("entry", (entry: Entry) => {
        const wanted = entry.fileName === MANIFEST || (POM.test(entry.fileName) && poms.length < MAX_POMS);
        if (!wanted) return zip.readEntry();
        readEntry(zip, entry).then((text) => {
          if (entry.fileName === MANIFEST) manifest = text;
          else poms.push(text);
          zip.readEntry();
        }, reject);
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}

/**
 * The packages a Java archive holds: one per pom.properties (Maven coordinates
 * `groupId:artifactId`; a shaded archive has several), else the manifest's
 * Implementation-Title and -Version (or the OSGi Bundle-SymbolicName and -Version).
 * An archive with neither is nobody's package: an empty list.
 */
export async function readJavaArchive(file: string): Promise<PackageId[]> {
  let entries: { poms: string[]; manifest?: string };
  try {
    entries = await metadataEntries(file);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new PackageMetadataError(file, e.code ? e.code : `not a readable zip archive: ${e.message}`);
  }
  const found: PackageId[] = [];
  for (const text of entries.poms) {
    const p = parseProperties(text);
    const group = p.get("groupId");
    const artifact = p.get("artifactId");
    const version = p.get("version");
    if (group && artifact && version) found.push({ ecosystem: "maven", name: `${group}:${artifact}`, version });
  }
  if (found.length > 0 || entries.manifest === undefined) return found;
  const m = parseManifest(entries.manifest);
  const name = m.get("Implementation-Title") ?? m.get("Bundle-SymbolicName")?.split(";")[0];
  const version = m.get("Implementation-Version") ?? m.get("Bundle-Version");
  return name && version ? [{ ecosystem: "maven", name, version }] : [];
}
