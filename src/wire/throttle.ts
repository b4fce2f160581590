// Rate limit for repeated warnings: the first occurrence is reported at once, the rest are
// counted and reported as one line per period. A flood of bad input must not become a flood of
// log lines (3.4 million warnings). Pure: the caller logs and gives the clock.

export class Throttle {
  private last = -Infinity;
  private count = 0;

  constructor(private readonly periodMs = 60_000) {}

  /**
   * Counts one occurrence. Returns how many occurrences the line to log now stands for (1 for
   * the first, N after a quiet period), or 0 when this one is only counted.
   */
  hit(now: number): number {
    this.count++;
    if (now - this.last < this.periodMs) return 0;
    const n = this.count;
    this.count = 0;
    this.last = now;
    return n;
  }

  /** Occurrences counted and not yet reported (to report them when the connection ends). */
  get pending(): number {
    return this.count;
  }
}
