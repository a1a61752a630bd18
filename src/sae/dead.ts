/**
 * Dead-latent and firing-frequency tracking (docs/SCIENCE.md §1: a latent is dead when it has not been
 * non-zero over the last N tokens).
 *
 * Window rule: dead ⇔ tokens since the latent last fired ≥ min(N, tokens seen so far). So early in
 * training (and in whole runs shorter than N) "the last N tokens" means "the whole run so far": a
 * latent that never fired is dead from the first batch on, and one that fired once stays alive
 * until N tokens pass without it. The trainer's default N is min(10M, one pass over the data) —
 * 10M is Gao et al.'s choice for large runs, and on a small data set a latent that fires on no row of
 * a whole epoch is dead on that data set.
 *
 * Dense latents: firing on more than `denseRate` (10%) of the tokens of the current logging window.
 *
 * Letters: M d_sae.
 */

export class DeadTracker {
  /** dead[i] = 1 when latent i counts as dead (updated by `update`). */
  readonly dead: Uint8Array;
  /** Per-step firing counts (filled by SaeStep.countFiring, consumed by `update`). */
  readonly stepCounts: Int32Array;
  private readonly lastFired: Float64Array;
  private readonly windowCounts: Float64Array;
  private windowTokens = 0;
  private tokens = 0;
  private nDead: number;

  constructor(
    readonly M: number,
    /** N: window length in tokens. */
    readonly windowTokens_: number,
  ) {
    this.dead = new Uint8Array(M);
    this.stepCounts = new Int32Array(M);
    this.lastFired = new Float64Array(M);
    this.windowCounts = new Float64Array(M);
    this.nDead = 0;
  }

  /** After a step over `rows` tokens whose firing counts are in stepCounts; clears stepCounts. */
  update(rows: number): void {
    this.tokens += rows;
    this.windowTokens += rows;
    const w = Math.min(this.windowTokens_, this.tokens);
    let n = 0;
    for (let i = 0; i < this.M; i++) {
      const c = this.stepCounts[i];
      if (c > 0) {
        this.lastFired[i] = this.tokens;
        this.windowCounts[i] += c;
      }
      const d = this.tokens - this.lastFired[i] >= w ? 1 : 0;
      this.dead[i] = d;
      n += d;
    }
    this.nDead = n;
    this.stepCounts.fill(0);
  }

  get deadCount(): number {
    return this.nDead;
  }

  get tokensSeen(): number {
    return this.tokens;
  }

  /** Fraction of latents firing on more than `rate` of the window's tokens; starts a new window. */
  takeDenseFraction(rate = 0.1): number {
    let n = 0;
    if (this.windowTokens > 0)
      for (let i = 0; i < this.M; i++) if (this.windowCounts[i] > rate * this.windowTokens) n++;
    this.windowCounts.fill(0);
    this.windowTokens = 0;
    return n / this.M;
  }
}
