/** One fuzz input: a whole project, as `promha check` and `promha render` would find it. */
export interface FuzzInput {
  /** The text of promha.yaml. */
  readonly topology: string;
  /** Other files of the project by path relative to it: rule files, mostly. */
  readonly files: Readonly<Record<string, string>>;
  /**
   * Files given as bytes (base64), written over `files` and the topology: input that is
   * not UTF-8. A key may be TOPOLOGY_FILE.
   */
  readonly bytes?: Readonly<Record<string, string>>;
  /** Paths, relative to the project, that are named pipes with no writer. */
  readonly fifos?: readonly string[];
  /** Paths, relative to the project, that are symbolic links to a device such as /dev/zero. */
  readonly symlinks?: Readonly<Record<string, string>>;
  /** File modes by path (0o600 for keys and passwords); 0o644 otherwise. */
  readonly modes?: Readonly<Record<string, number>>;
  /** A file that is in the --out directory when render runs: render must not lose it. */
  readonly foreign?: ForeignFile;
  /** What else the CLI is asked to do with the project, besides check and render. */
  readonly commands?: Commands;
  /** Which generator made it (counted by the campaign; no effect on the outcome). */
  readonly surface?: string;
}

export interface Commands {
  /** `promha check --faults K`. */
  readonly faults?: number;
  /** `promha test rules FILE…`, paths relative to the project. */
  readonly testRules?: readonly string[];
  /** `promha drill chaos --replay FILE`: relative to the project, or absolute (/dev/zero). */
  readonly chaosReplay?: string;
  /** The commands that read a running stack's state (`.promha/state.json` of the project): fault, stop, drill. */
  readonly state?: boolean;
}

export interface ForeignFile {
  /** Relative to the --out directory. */
  readonly path: string;
  readonly content: string;
  /** Put it there after a first render, so the directory is one promha wrote. */
  readonly afterRender: boolean;
}

export const TOPOLOGY_FILE = 'promha.yaml';
/** The state directory of the project, as `--state-dir` would name it. */
export const STATE_DIR = '.promha';
export const STATE_FILE = `${STATE_DIR}/state.json`;
