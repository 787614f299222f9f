import { type FSWatcher, readdirSync, readFileSync, statSync, watch } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../../log.js";
import { type CompiledPolicy, compilePolicyFile } from "./compile.js";
import { type PolicyEngine, type PolicyFileStatus, PolicySet } from "./engine.js";
import type { Mode } from "./format.js";
import { byPosition, formatPolicyError, type PolicyError, PolicySource } from "./source.js";

/** Policy files: JSON, or YAML for those who prefer it. */
const POLICY_FILE = /^[^.].*\.(json|ya?ml)$/;

/** A policy file larger than this is refused rather than parsed. */
const MAX_FILE_BYTES = 4 << 20;

/** The policy files of a directory, sorted, or the path itself when it is a file. */
export function policyFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => POLICY_FILE.test(name))
    .map((name) => join(path, name))
    .filter((file) => statSync(file, { throwIfNoEntry: false })?.isFile() ?? false)
    .sort();
}

interface FileText {
  file: string;
  text: string;
}

interface FileResult extends FileText {
  policy?: CompiledPolicy;
  errors: PolicyError[];
}

function readPolicyFile(file: string): FileText & { error?: PolicyError } {
  try {
    if (statSync(file).size > MAX_FILE_BYTES) {
      return { file, text: "", error: { file, line: 1, column: 1, message: `larger than ${MAX_FILE_BYTES} bytes` } };
    }
    return { file, text: readFileSync(file, "utf8") };
  } catch (err) {
    return { file, text: "", error: { file, line: 1, column: 1, message: (err as Error).message } };
  }
}

/** The error for a policy whose name an earlier file took; policies are named uniquely. */
function duplicateName(file: FileText, name: string, first: string): PolicyError {
  return new PolicySource(file.file, file.text).error(
    ["metadata", "name"],
    `metadata.name: policy '${name}' is also defined in ${first}`,
  );
}

/** Compiles files in order; a policy name already taken rejects the later file. */
function compileFiles(files: readonly (FileText & { error?: PolicyError })[]): FileResult[] {
  const owners = new Map<string, string>();
  return files.map((f) => {
    if (f.error) return { ...f, errors: [f.error] };
    const result = compilePolicyFile(f.file, f.text);
    if (!result.policy) return { ...f, errors: result.errors };
    const owner = owners.get(result.policy.name);
    if (owner !== undefined) return { ...f, errors: [duplicateName(f, result.policy.name, owner)] };
    owners.set(result.policy.name, f.file);
    return { ...f, policy: result.policy, errors: [] };
  });
}

export interface ValidationReport {
  files: number;
  errors: PolicyError[];
}

/** Validates files and directories of policies together, as one sensor would load them. */
export function validatePolicyPaths(paths: readonly string[]): ValidationReport {
  const { files, errors } = loadPolicyPaths(paths);
  return { files, errors };
}

/** Compiles files and directories of policies together: the policies that compiled, and every error. */
export function loadPolicyPaths(paths: readonly string[]): ValidationReport & { policies: CompiledPolicy[] } {
  const files = paths.flatMap(policyFiles).map(readPolicyFile);
  const results = compileFiles(files);
  return {
    files: files.length,
    policies: results.flatMap((r) => (r.policy ? [r.policy] : [])),
    errors: results.flatMap((r) => r.errors).sort(byPosition),
  };
}

export interface PolicyDirectoryOptions {
  logger: Logger;
  /** The mode the sensor was asked to run every policy in. */
  mode?: Mode;
  /** Quiet time after a change before the directory is read again. */
  debounceMs?: number;
}

/**
 * The policies of a directory, kept in force in an engine. A file that fails to compile is
 * rejected whole and the others load; on a reload, a file that has become bad keeps its last
 * good version in force, and every error is logged.
 */
export class PolicyDirectory {
  private readonly lastGood = new Map<string, CompiledPolicy>();
  private lastTexts = new Map<string, string>();
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly dir: string,
    private readonly engine: PolicyEngine,
    private readonly options: PolicyDirectoryOptions,
  ) {}

  /**
   * Reads the directory and puts its policies in force. Throws only when the directory cannot
   * be read at all; on a reload that failure is logged and the set in force stays.
   */
  load(reason = "start"): PolicyFileStatus[] {
    const { logger } = this.options;
    let files: ReturnType<typeof readPolicyFile>[];
    try {
      files = policyFiles(this.dir).map(readPolicyFile);
    } catch (err) {
      if (reason === "start") throw err;
      logger.error(
        { err, dir: this.dir },
        `cannot read the policy directory; the policies in force stay: ${(err as Error).message}`,
      );
      return [...this.engine.current.files];
    }
    const texts = new Map(files.map((f) => [f.file, f.text]));
    if (reason !== "start" && sameTexts(texts, this.lastTexts)) {
      // A reload someone asked for deserves an answer; a watch event that changed nothing does not.
      logger[reason === "SIGHUP" ? "info" : "debug"]({ reason, dir: this.dir }, "policy files unchanged");
      return [...this.engine.current.files];
    }
    this.lastTexts = texts;

    const policies: CompiledPolicy[] = [];
    const statuses: PolicyFileStatus[] = [];
    const names = new Map<string, string>();
    for (const result of compileFiles(files)) {
      let policy = result.policy;
      let status: PolicyFileStatus["status"] = "loaded";
      if (policy) this.lastGood.set(result.file, policy);
      else {
        policy = this.lastGood.get(result.file);
        status = policy ? "stale" : "rejected";
        for (const e of result.errors) {
          logger.warn({ file: e.file, line: e.line, column: e.column, rule: e.rule }, formatPolicyError(e));
        }
      }
      // A stale version may carry a name a good file now uses: the good file wins.
      if (policy && names.has(policy.name)) {
        policy = undefined;
        status = "rejected";
      }
      if (policy) {
        names.set(policy.name, result.file);
        policies.push(policy);
      }
      statuses.push({
        file: result.file,
        ...(policy && { policy: policy.name }),
        status,
        errors: result.errors.length,
      });
    }
    for (const file of this.lastGood.keys()) if (!texts.has(file)) this.lastGood.delete(file);

    this.engine.swap(new PolicySet(policies, statuses));
    const count = (s: PolicyFileStatus["status"]) => statuses.filter((f) => f.status === s).length;
    logger.info(
      {
        reason,
        dir: this.dir,
        policies: policies.length,
        rules: policies.reduce((n, p) => n + p.rules.length, 0),
        rejected: count("rejected"),
        stale: count("stale"),
      },
      "policies in force",
    );
    return statuses;
  }

  /** Reloads after the directory changes (debounced: an editor's save is several events). */
  watch(): void {
    const { logger, debounceMs = 250 } = this.options;
    this.watcher = watch(this.dir, () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.load("change"), debounceMs).unref();
    });
    this.watcher.unref();
    this.watcher.on("error", (err) => {
      logger.error({ err, dir: this.dir }, "stopped watching the policy directory; SIGHUP still reloads");
      this.watcher?.close();
    });
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
  }
}

function sameTexts(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [file, text] of a) if (b.get(file) !== text) return false;
  return true;
}
