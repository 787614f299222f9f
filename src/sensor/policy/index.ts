/**
 * The policy stage: load, validate and compile policies, and test events against them.
 *
 * Not here yet, with the place each would go: sequence rules (a rule kind beside `when`,
 * kept per key in the engine), `vigil policy test` over recorded events (engine.evaluate on
 * read JSON lines), and the split of a rule into a kernel prefilter and a user-space remainder
 * (from the spliced tree in compile.ts, before it is planned).
 */
export type { RuleBindings } from "./bindings.js";
export { type CompiledPolicy, type CompiledRule, type CompileResult, compilePolicyFile } from "./compile.js";
export {
  PolicyDirectory,
  type PolicyDirectoryOptions,
  policyFiles,
  type ValidationReport,
  validatePolicyPaths,
} from "./directory.js";
export {
  PolicyEngine,
  type PolicyEngineOptions,
  type PolicyFileStatus,
  PolicySet,
  type PolicyStatistics,
  type RuleStatistics,
} from "./engine.js";
export { type Action, MODES, type Mode, type PolicyDocument, policyJsonSchema, type Severity } from "./format.js";
export { formatPolicyError, type PolicyError } from "./source.js";
