/** A place in a source file, 1-based line and column, as editors and compilers print it. */
export interface Location {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export function formatLocation(loc: Location): string {
  return `${loc.file}:${loc.line}:${loc.column}`;
}

/** Maps character offsets of a text to 1-based line/column. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (this.starts[lo] ?? 0) + 1 };
  }
  locate(file: string, offset: number): Location {
    return { file, ...this.position(offset) };
  }
}
