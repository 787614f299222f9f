/**
 * The policy stage: load, validate and compile policies, and test events against them, one
 * at a time (engine.ts) or in sequences (sequence.ts); offline over recorded events and rules'
 * own examples (replay.ts); and from each rule's conditions, the part the kernel can test
 * (kernel-part.ts), so that the kernel sends only what some rule can match.
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
  type OutcomeResolver,
  PolicyEngine,
  type PolicyEngineOptions,
  type PolicyFileStatus,
  PolicySet,
  type PolicyStatistics,
  type RuleStatistics,
  type SwapListener,
} from "./engine.js";
export { type Action, MODES, type Mode, type PolicyDocument, policyJsonSchema, type Severity } from "./format.js";
export { type KernelPart, kernelParts, partsInterest, policyInterest } from "./kernel-part.js";
export {
  type ExampleFailure,
  type ExampleReport,
  type ReplayedRule,
  replayEvents,
  runExamples,
} from "./replay.js";
export { SEQUENCE_LIMITS, type SequenceLimits } from "./sequence.js";
export { formatPolicyError, type PolicyError } from "./source.js";
