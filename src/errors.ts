import type { Location } from './location.ts';
import { formatLocation } from './location.ts';

/** One located problem in an input file. */
export interface Problem {
  readonly message: string;
  readonly location: Location;
  readonly hint?: string;
}

/** Unusable input (exit 2): the file cannot be read, parsed or matched to the schema. */
export class ValidationError extends Error {
  constructor(readonly problems: readonly Problem[]) {
    super(problems.map((p) => `${formatLocation(p.location)}: ${p.message}`).join('\n'));
    this.name = 'ValidationError';
  }
}

/** Ends a command with an exit code and an optional message, without a stack trace. */
export class ExitError extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
    this.name = 'ExitError';
  }
}
