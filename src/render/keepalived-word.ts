import { ExitError } from '../errors.ts';

/**
 * A value for keepalived.conf. keepalived substitutes `$NAME` and `${NAME}` in every line,
 * reads `@` at a line start as a condition, splits a script's string into arguments at
 * spaces and treats `#` and `!` as comments: no quoting covers all of that, so a value
 * must be of this plain grammar. The topology schema and the render flags ensure it;
 * this refuses anything else (e.g. a state directory with a space, for `up`).
 */
export function keepalivedWord(value: string, what: string): string {
  if (/^[A-Za-z0-9_.@+:/[\]-]+$/.test(value)) return value;
  throw new ExitError(
    2,
    `keepalived.conf cannot hold ${what} ${JSON.stringify(value)}: keepalived would read spaces, quotes, "$", "#" or newlines in it as syntax\n    fix: use letters, digits and "/._+@:-" only`,
  );
}
