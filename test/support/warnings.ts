// The process warnings a test causes, collected the one way every test file uses.

/** A process warning as passport-x emits it: an `Error` with its `PASSPORT_X_*` code. */
export type ProcessWarning = Error & { code?: string };

/** What {@link withWarnings} keeps and how long it listens. */
export interface WarningsDuringOptions {
  /** Only the warnings with this code (by default every warning). */
  code?: string;
  /**
   * Milliseconds to go on listening once `run` has settled, for a warning emitted from a socket's
   * or a timer's event. By default one turn of the event loop, which is enough for a warning emitted
   * during `run` (Node emits each one on the next tick).
   */
  settleMs?: number;
}

/**
 * What `run` answers, with the process warnings emitted while it runs and until it has settled,
 * through `process.on('warning')`, which sees each one whether or not test/support/setup.ts lets
 * it be printed. The listener is removed whatever `run` does, and `run`'s error is thrown on.
 */
export async function withWarnings<T>(run: () => T | Promise<T>, options: WarningsDuringOptions = {}): Promise<{ value: T; warnings: ProcessWarning[] }> {
  const { code, settleMs } = options;
  const warnings: ProcessWarning[] = [];
  const onWarning = (warning: ProcessWarning): void => {
    if (code === undefined || warning.code === code) warnings.push(warning);
  };
  process.on('warning', onWarning);
  try {
    const value = await run();
    await new Promise((resolve) => (settleMs === undefined ? setImmediate(resolve) : setTimeout(resolve, settleMs)));
    return { value, warnings };
  } finally {
    process.off('warning', onWarning);
  }
}

/** The process warnings `run` causes, as {@link withWarnings} collects them. */
export async function warningsDuring(run: () => unknown, options: WarningsDuringOptions = {}): Promise<ProcessWarning[]> {
  return (await withWarnings(run, options)).warnings;
}
