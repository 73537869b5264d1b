import pc from 'picocolors';

/** Colour functions (`red`, `dim`, …): identity when colour is off. */
export type Paint = ReturnType<typeof pc.createColors>;

/** No colour: for output that is read by programs, such as in-process runs of the CLI. */
export const plain: Paint = pc.createColors(false);

/**
 * picocolors' choice for this process: NO_COLOR and FORCE_COLOR first, then a
 * terminal, then a CI environment (whose logs render colour).
 */
export const processPaint: Paint = pc;
