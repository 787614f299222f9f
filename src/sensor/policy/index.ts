/**
 * The policy stage: load, validate and compile policies, and test events against them; and
 * from each rule's condition, the part the kernel can test (kernel-part.ts), so that the kernel
 * sends only what some rule can match.
 *
 * Not here yet, with the place each would go: sequence rules (a rule kind beside `when`,
 * kept per key in the engine; each step adds its kernel parts), `vigil policy test` over
 * recorded events (engine.evaluate on read JSON lines).
 */
export type { RuleBindings } from "./bindings.js";
export { type CompiledPolicy, type CompiledRule, type CompileResult, compilePolicyFile } from "./compile.js";
export {
  compilePolicyPaths,
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
  type SwapListener,
} from "./engine.js";
export { type Action, MODES, type Mode, type PolicyDocument, policyJsonSchema, type Severity } from "./format.js";
export { type KernelPart, kernelParts, partsInterest, policyInterest } from "./kernel-part.js";
export { formatPolicyError, type PolicyError } from "./source.js";
