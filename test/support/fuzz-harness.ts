// What every property-based suite shares: fast-check's parameters (a fixed seed, runs that an
// environment variable raises, the seed and path printed on failure), a guard that catches every
// uncaught exception and unhandled rejection while a property runs, and the count of inputs tried.
import fc from 'fast-check';

/** The seed every property starts from, unless `FUZZ_SEED` says otherwise: a failure replays exactly. */
export const DEFAULT_FUZZ_SEED = 20_260_709;

function envInteger(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) throw new TypeError(`${name} must be a positive whole number, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * fast-check's parameters for one property: `numRuns` (the property's default, or `FUZZ_RUNS`
 * for every property), the seed (`FUZZ_SEED`, else {@link DEFAULT_FUZZ_SEED}) and, to replay one
 * failing case, `FUZZ_PATH`. fast-check prints the seed and path of a failure in its message.
 */
export function fuzzParameters<T>(defaultRuns: number): fc.Parameters<T> {
  const params: fc.Parameters<T> = {
    seed: envInteger('FUZZ_SEED') ?? DEFAULT_FUZZ_SEED,
    numRuns: envInteger('FUZZ_RUNS') ?? defaultRuns,
    // Shrinking over real HTTP is slow: bound the whole property (below the tests' 300 s), the first counterexample is printed anyway.
    interruptAfterTimeLimit: 240_000,
    markInterruptAsFailure: true,
  };
  const path = process.env.FUZZ_PATH;
  if (path) params.path = path;
  return params;
}

/** How many runs a property makes: what the `it` titles and the closing lines print. */
export function runsOf(defaultRuns: number): number {
  return envInteger('FUZZ_RUNS') ?? defaultRuns;
}

/** Prints one closing line of a property: "fuzz: 2,000 callback queries tried (...)". */
export function reportTried(count: number, what: string, started: number): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`      fuzz: ${count.toLocaleString('en-US')} ${what} tried in ${seconds} s (seed ${envInteger('FUZZ_SEED') ?? DEFAULT_FUZZ_SEED})`);
}

/** What escaped while a {@link ProcessGuard} was installed. */
export interface EscapedFault {
  kind: 'uncaughtException' | 'unhandledRejection';
  error: unknown;
}

/**
 * Takes the process's `uncaughtException` and `unhandledRejection` listeners (mocha's) out for
 * the duration of a property and records what fires instead, so a property can assert that
 * nothing escaped, shrink to the input that made it escape, and report it, instead of mocha
 * failing whichever test runs at that moment. `restore()` puts the original listeners back.
 */
export class ProcessGuard {
  readonly escaped: EscapedFault[] = [];
  private readonly saved: { uncaughtException: NodeJS.UncaughtExceptionListener[]; unhandledRejection: NodeJS.UnhandledRejectionListener[] };
  private readonly waiters = new Set<(fault: EscapedFault) => void>();
  private readonly onUncaught = (error: unknown): void => this.record({ kind: 'uncaughtException', error });
  private readonly onRejection = (error: unknown): void => this.record({ kind: 'unhandledRejection', error });

  constructor() {
    this.saved = { uncaughtException: process.listeners('uncaughtException'), unhandledRejection: process.listeners('unhandledRejection') };
    process.removeAllListeners('uncaughtException');
    process.removeAllListeners('unhandledRejection');
    process.on('uncaughtException', this.onUncaught);
    process.on('unhandledRejection', this.onRejection);
  }

  /** Resolves with the next fault that escapes: race a request against it so a crash ends the wait at once. */
  nextFault(): { promise: Promise<EscapedFault>; cancel(): void } {
    let waiter: ((fault: EscapedFault) => void) | undefined;
    const promise = new Promise<EscapedFault>((resolve) => {
      waiter = resolve;
      this.waiters.add(resolve);
    });
    return { promise, cancel: () => void (waiter && this.waiters.delete(waiter)) };
  }

  /** Throws, describing the first escaped fault, when anything escaped since the last call; then forgets them. */
  assertNothingEscaped(context: string): void {
    if (this.escaped.length === 0) return;
    const faults = this.escaped.splice(0);
    const first = faults[0]!;
    const err = first.error instanceof Error ? first.error : new Error(String(first.error));
    throw new Error(`${faults.length} fault(s) escaped ${context}; the first, an ${first.kind}: ${err.name}: ${err.message}\n${err.stack ?? ''}`);
  }

  restore(): void {
    process.off('uncaughtException', this.onUncaught);
    process.off('unhandledRejection', this.onRejection);
    for (const listener of this.saved.uncaughtException) process.on('uncaughtException', listener);
    for (const listener of this.saved.unhandledRejection) process.on('unhandledRejection', listener);
  }

  private record(fault: EscapedFault): void {
    this.escaped.push(fault);
    for (const waiter of this.waiters) waiter(fault);
    this.waiters.clear();
  }
}

/**
 * Runs `action` with a time bound and against the guard: rejects when it takes longer than
 * `timeoutMs` (a hang) or when an exception or rejection escapes meanwhile (a crash).
 */
export async function bounded<T>(guard: ProcessGuard, what: string, timeoutMs: number, action: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const fault = guard.nextFault();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`${what} hung: no outcome within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const crash = fault.promise.then((f): never => {
    controller.abort();
    // Reported here, with the input that caused it: not again by the next assertNothingEscaped.
    guard.escaped.splice(guard.escaped.indexOf(f), 1);
    const err = f.error instanceof Error ? f.error : new Error(String(f.error));
    throw new Error(`${what}: an ${f.kind} escaped: ${err.name}: ${err.message}\n${err.stack ?? ''}`);
  });
  try {
    return await Promise.race([action(controller.signal), timeout, crash]);
  } finally {
    clearTimeout(timer);
    fault.cancel();
  }
}
