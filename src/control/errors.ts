import type { FieldProblem } from '../core/errors.ts';

/**
 * A control operation refused: the API answers `status` with `code` (send-error.ts's shape), the
 * CLI prints the message and exits with `exitCode`. Nothing was changed.
 */
export class ControlError extends Error {
  override name = 'ControlError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The CLI's documented exit codes: 2 usage or bad input, 3 not found or nothing matched, 4 conflict, 1 the rest. */
  get exitCode(): number {
    if (this.status === 400) return 2;
    if (this.status === 404) return 3;
    if (this.status === 409) return 4;
    return 1;
  }
}

/** Bad input naming its field(s). */
export class InvalidInputError extends ControlError {
  override name = 'InvalidInputError';
  constructor(message: string, fields: readonly FieldProblem[] = [], code = 'invalid_input') {
    super(400, code, message, fields.length ? { fields } : {});
  }
}

export class NotFoundError extends ControlError {
  override name = 'NotFoundError';
  constructor(code: string, message: string) {
    super(404, code, message);
  }
}

/** A replay (or a dry run of one) whose filter matches no failed job. */
export class NothingMatchedError extends ControlError {
  override name = 'NothingMatchedError';
  constructor(message: string) {
    super(404, 'nothing_matched', message);
  }
}

/** Beat held the schedule lock for longer than a reconcile takes: try again. */
export class BusyError extends ControlError {
  override name = 'BusyError';
  constructor(message: string) {
    super(503, 'busy', message);
  }
}
