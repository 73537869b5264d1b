import { processPaint, type Paint } from './paint.ts';

/**
 * Where a command prints. The bin wires it to the process streams; tests pass
 * their own to run commands in-process and read what they print.
 */
export interface CliIo {
  /** Raw text for stdout (results, JSON). */
  stdout(text: string): void;
  /** Raw text for stderr (located problems, progress of long commands). */
  stderr(text: string): void;
  /**
   * Colours for human-readable text. A property of the stream, not of the
   * process: in-process callers read plain text whatever the environment says.
   */
  readonly paint: Paint;
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  paint: processPaint,
};

/** A printer of whole lines on stdout, the `print` callback commands take. */
export const lines = (io: CliIo) => (line: string): void => io.stdout(`${line}\n`);
