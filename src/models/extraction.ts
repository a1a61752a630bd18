/**
 * The contract between a model that yields activations (models/vision, models/onnx, models/modarith)
 * and the shard writer behind `husai extract` (models/extract-writer.ts). A source walks a fixed,
 * ordered list of *units* — images for vision models, tokens for language models, (a, b) pairs for
 * the modular-arithmetic transformer — and returns the activation rows for any range of them, so the
 * writer can cut shards on unit boundaries and resume an interrupted extraction at the first missing
 * shard without redoing finished ones (docs/FORMATS.md, "Activations": a folder of shards + meta.json).
 *
 * Letters: N rows, D width.
 */
import type { Mat } from '../core/mat.js';

/**
 * Per-row provenance, one entry per activation row, column-wise: e.g. vision
 * `{ image: Int32Array, label: Int32Array, y: Int32Array, x: Int32Array }`, text
 * `{ doc: Int32Array, position: Int32Array, token: Int32Array }`, modular arithmetic
 * `{ a: Int32Array, b: Int32Array, position: Int32Array }`. Every column has exactly N entries.
 */
export type RowColumns = Record<string, Int32Array | Float32Array>;

export interface ExtractedRows {
  /** Activations [N, D], N = rows produced by the units asked for. */
  xND: Mat;
  rows: RowColumns;
}

export interface ExtractionSource {
  /**
   * Everything that identifies what is extracted: source name, model file sha256, layer, hook,
   * positions / pooling, data set and limit. JSON-serialisable; written to meta.json and compared on
   * resume, so a changed option never appends to shards made under another.
   */
  readonly config: Record<string, unknown>;
  /** Width D of one activation row. */
  readonly d: number;
  /** Number of units the extraction covers (after --limit). */
  readonly units: number;
  /** Preferred number of units per call (a batch that fits memory); shards hold a multiple of it. */
  readonly chunkUnits: number;
  /** Activations for units [start, end), rows in unit order. */
  extract(start: number, end: number): Promise<ExtractedRows>;
  /**
   * Extra files describing the units as a whole (e.g. the token stream, image pixels for feature
   * cards), written once beside the shards: name → bytes. Names must not end in .npy/.safetensors
   * unless meta.json lists the shards explicitly (the writer always does).
   */
  sidecars?(): Promise<Record<string, Uint8Array>>;
  close(): Promise<void>;
}
