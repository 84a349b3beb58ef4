// Timing for the offline benchmarks: the median of `runs` timed calls, after one untimed
// warm-up when asked.

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Milliseconds, the median of `runs` calls of `fn`. */
export function time(fn, runs, { warmUp = false } = {}) {
  if (warmUp) fn();
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(ms);
}
