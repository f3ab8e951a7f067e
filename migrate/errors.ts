/**
 * The error hierarchy, mirroring sqlalchemy-migrate's `migrate.exceptions` so that callers (and
 * people grepping logs) find the same class names, plus what the Python tool lacks: a connection
 * error, a lock timeout and a step error carrying the script, the direction and the cause.
 *
 * `exitCode` is what the CLI exits with: 2 for usage errors and the "known errors" that the Python
 * tool shows as `PROG: error: ...`, 1 for everything else.
 */
export class MigrateError extends Error {
  /** The Python class name, printed by the CLI as the prefix of the one-line message. */
  get kind(): string {
    return this.constructor.name;
  }
  exitCode = 1;
  constructor(message = '', options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A usage error: bad arguments. Exit 2. */
export class UsageError extends MigrateError {
  override exitCode = 2;
}
/** The Python tool's KnownError: shown as `PROG: error: <msg>`, exit 2. */
export class KnownError extends MigrateError {
  override exitCode = 2;
}
export class PathFoundError extends KnownError {}
export class PathNotFoundError extends MigrateError {}
export class InvalidRepositoryError extends MigrateError {}
export class InvalidVersionError extends MigrateError {}
export class VersionNotFoundError extends MigrateError {}
export class ScriptError extends MigrateError {}
export class InvalidScriptError extends ScriptError {}
export class DatabaseNotControlledError extends MigrateError {}
export class DatabaseAlreadyControlledError extends MigrateError {}
export class ControlledSchemaError extends MigrateError {}
/** migrate.cfg could not be read or parsed. */
export class ConfigFileError extends InvalidRepositoryError {}
/** Connection URL not understood (scheme, syntax). */
export class InvalidUrlError extends MigrateError {}
/** The database could not be reached or refused the login. `retryable` for refused/unreachable. */
export class ConnectionError extends MigrateError {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
/** Another run held the migration lock longer than the lock timeout. Nothing was applied. */
export class LockTimeoutError extends MigrateError {}
/**
 * A statement gave up waiting for a table or row lock another session holds ([database]
 * lock_wait_timeout); the message names the blocker and what to do.
 */
export class LockWaitTimeoutError extends MigrateError {}
/** The run was stopped (SIGTERM/SIGINT at the process edge); `reason` is the abort reason. */
export class InterruptedError extends MigrateError {
  constructor(
    message: string,
    readonly reason: unknown,
  ) {
    super(message);
  }
}
/**
 * The database is not in a state the run can start from: not exactly the expected schema of its
 * version, nor a partial state of the next step that the step can finish (or a state it recognises
 * but cannot finish). Nothing was written. `examination` has the details (examine.ts).
 */
export class SchemaStateError extends MigrateError {
  constructor(
    message: string,
    readonly examination?: unknown,
  ) {
    super(message);
  }
}
/**
 * A step's result is not the expected schema of its version (a fault of the step's script on this
 * server): the step was rolled back, or (MySQL) left unbumped for the next run to assess.
 */
export class StepResultError extends MigrateError {}
/** A value could not be written (MySQL: past max_allowed_packet with LOCAL INFILE refused); the message names the row and the fixes. */
export class LargeValueError extends MigrateError {}
/** A database statement failed; carries the statement (never a password). */
export class DatabaseError extends MigrateError {
  constructor(
    message: string,
    readonly sql?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
/** A step (one script, one direction) failed. The version is left at `from`. */
export class StepError extends MigrateError {
  constructor(
    readonly script: string,
    readonly direction: 'upgrade' | 'downgrade',
    readonly from: number,
    readonly to: number,
    cause: unknown,
  ) {
    super(`${direction} ${from} -> ${to} (${script}) failed: ${describe(cause)}`, { cause });
  }
}

/** One line describing any thrown value. */
export function describe(e: unknown): string {
  if (e instanceof Error) return (e.message || e.constructor.name).split('\n')[0]!;
  return String(e);
}
