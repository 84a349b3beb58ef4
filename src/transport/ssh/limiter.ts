/** Bounds how many tasks (SSH handshakes) run at once; counts them for reports and tests. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  /** Tasks started so far. */
  started = 0;
  /** The most that ran at once. */
  peak = 0;

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1) throw new Error(`a limit must be a whole number of 1 or more, got ${max}`);
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    this.started += 1;
    this.peak = Math.max(this.peak, this.active);
    try {
      return await task();
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }
}
