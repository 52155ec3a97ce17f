/** `x` rounded to `digits` decimals (6 by default: money in USD per hour keeps a micro-dollar). */
export function round(x: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** `x` when it is a finite number above zero (a known price), else null. */
export const positiveOrNull = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) && x > 0 ? x : null);
