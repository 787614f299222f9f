/**
 * The policy stage: load, validate and compile policies, and test events against them, one
 * at a time (engine.ts) or in sequences (sequence.ts); offline over recorded events and rules'
 * own examples (replay.ts).
 *
 * Not here yet, with the place it would go: the split of a rule into a kernel prefilter and a
 * user-space remainder (from the spliced tree in compile.ts, before it is planned).
 */
export type { RuleBindings } from "./bindings.js";
export { type CompiledPolicy, type CompiledRule, type CompileResult, compilePolicyFile } from "./compile.js";
export {
  loadPolicyPaths,
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
export {
  type ExampleFailure,
  type ExampleReport,
  type ReplayedRule,
  replayEvents,
  runExamples,
} from "./replay.js";
export { SEQUENCE_LIMITS, type SequenceLimits } from "./sequence.js";
export { formatPolicyError, type PolicyError } from "./source.js";
