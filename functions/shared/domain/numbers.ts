/** `x` rounded to `digits` decimals (6 by default: money in USD per hour keeps a micro-dollar). */
export function round(x: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
