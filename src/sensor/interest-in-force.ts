import type { Logger } from "../log.js";
import { type Access, DELIVER_ALL, type InterestSpec } from "./kernel/interest.js";
import { accessBits, kindInterest, pathVerdict, unionInterest } from "./kernel/interest-union.js";
import type { PolicyEngine, PolicySet } from "./policy/index.js";

/**
 * `spec` widened by `extra`; the processes `spec` ignores stay ignored (a union would keep only
 * those both ignore).
 */
export function withExtra(spec: InterestSpec, extra: InterestSpec | undefined): InterestSpec {
  if (!extra) return spec;
  return unionInterest(spec, { ...extra, ignoreComms: spec.ignoreComms, ignoreExes: spec.ignoreExes });
}

/**
 * What the kernel sends, kept in step with the policies in force when it is derived from them
 * (see policy/kernel-part.ts): written on start and again around every swap of the set.
 */
export class InterestInForce {
  private spec: InterestSpec;
  private written: InterestSpec;

  /**
   * `extra` is what a stage other than the policies needs (the package inventory's opens): it
   * is joined to every spec written, and `sends` tells its events from those the spec asked for.
   */
  constructor(
    private readonly write: (spec: InterestSpec) => void,
    initial: InterestSpec,
    private readonly logger: Logger,
    private readonly extra?: InterestSpec,
  ) {
    this.spec = initial;
    this.written = withExtra(initial, extra);
  }

  /** The spec last written into the kernel's maps. */
  get current(): InterestSpec {
    return this.written;
  }

  /** Whether the spec in force, without `extra`, sends an event of `kind` doing `access` on `path`. */
  sends(kind: string, path: string, access: Exclude<Access, "none" | "any">): boolean {
    return (accessBits(pathVerdict(kindInterest(this.spec, kind), path)) & accessBits(access)) !== 0;
  }

  /**
   * Rewrites the maps on every swap. Rules of the old set are in force until the swap and rules
   * of the new one from then on, while the kernel keeps filtering on other CPUs the whole time:
   * so the union of the old and new interest goes in before the swap, and the new interest alone
   * after it. Each write only widens (before) or only narrows towards a spec the set in force
   * needs no more than (after), and applyInterest orders its map updates so that no step of a
   * write sends less than both ends; a kind's configuration read half old, half new during the
   * union's write still sends all the old spec did (the union's default and prefixes are wider).
   */
  follow(engine: PolicyEngine, derive: (set: PolicySet) => InterestSpec): void {
    let next: InterestSpec | undefined;
    engine.onSwap({
      before: (set) => {
        next = derive(set);
        this.apply(unionInterest(this.spec, next), "widened for the policies being loaded");
      },
      after: () => {
        if (next) this.apply(next, "follows the policies in force");
        next = undefined;
      },
    });
  }

  private apply(spec: InterestSpec, why: string): void {
    try {
      const written = withExtra(spec, this.extra);
      this.write(written);
      this.spec = spec;
      this.written = written;
      this.logger.debug({ kinds: spec.kinds }, `kernel interest ${why}`);
    } catch (err) {
      // A write that failed half-way may have left any mix of the two specs: send everything
      // (but what the user ignores) rather than risk dropping what a rule needs.
      const all = { ...DELIVER_ALL, ignoreComms: spec.ignoreComms, ignoreExes: spec.ignoreExes };
      this.logger.error({ err }, `cannot write the kernel's interest; sending every event: ${(err as Error).message}`);
      try {
        this.write(all);
        this.spec = all;
        this.written = all;
      } catch (again) {
        this.logger.error({ err: again }, `cannot write the kernel's interest: ${(again as Error).message}`);
      }
    }
  }
}
