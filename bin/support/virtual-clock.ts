/**
 * A settable wall clock for simulations that replay hours of traffic in seconds: while installed,
 * `Date.now()` and `new Date()` (no arguments) return the virtual time, so code that stamps
 * `last_heartbeat_at`, ages zombies or expires commands sees the simulated cadence. Every other
 * form of `Date` behaves as usual, `instanceof Date` still holds for dates made before or after,
 * and timers and `performance.now()` stay on real time (durations are measured for real).
 */
export interface VirtualClock {
  now(): number;
  /** Moves the clock to `ms` (never backwards). */
  set(ms: number): void;
  /** Restores the real `Date`. */
  uninstall(): void;
}

export function installVirtualClock(startMs: number): VirtualClock {
  const RealDate = globalThis.Date;
  let current = startMs;
  class VirtualDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(current);
      else super(...(args as [string | number | Date]));
    }

    static override now(): number {
      return current;
    }

    static override [Symbol.hasInstance](value: unknown): boolean {
      return value instanceof RealDate;
    }
  }
  globalThis.Date = VirtualDate as DateConstructor;
  return {
    now: () => current,
    set: (ms: number) => {
      current = Math.max(current, ms);
    },
    uninstall: () => {
      globalThis.Date = RealDate;
    },
  };
}
