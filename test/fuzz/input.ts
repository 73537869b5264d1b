/** One fuzz input: a whole project, as `promha check` and `promha render` would find it. */
export interface FuzzInput {
  /** The text of promha.yaml. */
  readonly topology: string;
  /** Other files of the project by path relative to it: rule files, mostly. */
  readonly files: Readonly<Record<string, string>>;
  /** Paths, relative to the project, that are named pipes with no writer. */
  readonly fifos?: readonly string[];
  /** A file that is in the --out directory when render runs: render must not lose it. */
  readonly foreign?: ForeignFile;
}

export interface ForeignFile {
  /** Relative to the --out directory. */
  readonly path: string;
  readonly content: string;
  /** Put it there after a first render, so the directory is one promha wrote. */
  readonly afterRender: boolean;
}

export const TOPOLOGY_FILE = 'promha.yaml';
