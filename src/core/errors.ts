// Typed errors with a stable code, the place they concern and a hint; the CLI maps them to sysexits.

export const EXIT = {
  OK: 0,
  USAGE: 64,
  DATAERR: 65,
  NOINPUT: 66,
  UNAVAILABLE: 69,
  TEMPFAIL: 75,
  CONFIG: 78,
} as const;

export type ErrorCode = 'CONFIG' | 'USAGE' | 'PARSE' | 'STORE' | 'PUBLISH' | 'SOURCE' | 'UNAVAILABLE';

const EXIT_FOR: Record<ErrorCode, number> = {
  CONFIG: EXIT.CONFIG,
  USAGE: EXIT.USAGE,
  PARSE: EXIT.DATAERR,
  STORE: EXIT.TEMPFAIL,
  PUBLISH: EXIT.TEMPFAIL,
  SOURCE: EXIT.DATAERR,
  UNAVAILABLE: EXIT.UNAVAILABLE,
};

/** Base error: message reads `where: what is wrong; hint: the fix` like Postfix diagnostics. */
export class PopgateError extends Error {
  readonly code: ErrorCode;
  readonly where: string;
  readonly hint?: string;
  readonly exitCode: number;

  constructor(code: ErrorCode, where: string, what: string, hint?: string, options?: { cause?: unknown; exitCode?: number }) {
    super(`${where}: ${what}${hint ? `; hint: ${hint}` : ''}`, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.code = code;
    this.where = where;
    this.hint = hint;
    this.exitCode = options?.exitCode ?? EXIT_FOR[code];
    this.name = new.target.name;
  }
}

export class ConfigError extends PopgateError {
  constructor(where: string, what: string, hint?: string, cause?: unknown) {
    super('CONFIG', where, what, hint, { cause });
  }
}

export class UsageError extends PopgateError {
  constructor(where: string, what: string, hint?: string) {
    super('USAGE', where, what, hint);
  }
}

export class StoreError extends PopgateError {
  constructor(where: string, what: string, hint?: string, cause?: unknown, exitCode?: number) {
    super('STORE', where, what, hint, { cause, exitCode });
  }
}

export class PublishError extends PopgateError {
  constructor(where: string, what: string, hint?: string, cause?: unknown, exitCode?: number) {
    super('PUBLISH', where, what, hint, { cause, exitCode });
  }
}

export class SourceError extends PopgateError {
  constructor(where: string, what: string, hint?: string, cause?: unknown) {
    super('SOURCE', where, what, hint, { cause });
  }
}

export class UnavailableError extends PopgateError {
  constructor(where: string, what: string, hint?: string, cause?: unknown) {
    super('UNAVAILABLE', where, what, hint, { cause });
  }
}

/** Short text for an unknown thrown value (errno errors keep their code). */
export function describe(err: unknown): string {
  if (err instanceof Error) {
    const errno = (err as NodeJS.ErrnoException).code;
    return errno && !err.message.includes(errno) ? `${errno}: ${err.message}` : err.message;
  }
  return String(err);
}
