/**
 * ImageSet: a fixed, ordered list of labelled images, the units a vision extraction walks
 * (models/extraction.ts). Every set is deterministic — the same name and split give the same images
 * in the same order on every machine — so `--limit N` takes the same first N images everywhere and
 * an interrupted extraction resumes on the same ones.
 *
 * Letters: N images, H height, W width, C channels (1 grey, 3 RGB).
 */

export type Split = 'train' | 'test';

export interface ImageSet {
  /** Data set name as given to --images (`mnist`, `fashion-mnist`). */
  readonly name: string;
  readonly split: Split;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** Pixels [N, H, W, C], uint8, C order. */
  readonly pixelsNHWC: Uint8Array;
  /** Class index per image, [N]. */
  readonly labels: Int32Array;
  /** Class names, indexed by label. */
  readonly classes: readonly string[];
  /** Where image i came from in the original files (its index there), [N]. */
  readonly sourceIndex: Int32Array;
  /** The files read, for provenance and hashing. */
  readonly files: readonly string[];
  /** One line on where the images come from and how they are ordered. */
  readonly description: string;
}

/** Pixels of image i, [H, W, C] (a view, no copy). */
export function imagePixels(set: ImageSet, i: number): Uint8Array {
  const n = set.height * set.width * set.channels;
  return set.pixelsNHWC.subarray(i * n, (i + 1) * n);
}
