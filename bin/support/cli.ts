import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The scripts' common command-line handling (`node:util` parseArgs, strict): `--help` prints the
 * usage, an unknown flag, a missing value or a bad argument is a UsageError — the message and the
 * usage on stderr, exit code 2 — and any other failure exits 1.
 */
export class UsageError extends Error {}

/** parseArgs in strict mode, with its argument errors turned into UsageErrors. */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs<T>({ strict: true, ...config });
  } catch (err) {
    if (err instanceof TypeError && 'code' in err) throw new UsageError(err.message);
    throw err;
  }
}

/** Runs `main(argv)`; its result is the exit code. */
export function runCli(name: string, usage: string, main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`${name}: ${err.message}\n\n${usage}\n`);
        process.exitCode = 2;
        return;
      }
      process.stderr.write(`${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}

/** A non-negative number flag (undefined when absent). */
export function numberFlag(value: string | undefined, name: string, { integer = false, min = 0, max = Infinity } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min}${Number.isFinite(max) ? ` to ${max}` : ''}`);
  }
  return n;
}

/**
 * For scripts with their own argument parser: the parsed arguments, or undefined once `--help` has
 * printed the usage; a bad argument prints its message and the usage on stderr and exits 2.
 */
export function argsOrUsage<T extends { help?: boolean }>(parse: (argv: string[]) => T, usage: string): T | undefined {
  let args: T;
  try {
    args = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${usage}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(`${usage}\n`);
    return undefined;
  }
  return args;
}
