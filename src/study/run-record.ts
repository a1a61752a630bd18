/**
 * A run's own record, DIR/runs/<id>/husai-run.json: its store row (firing frequencies as base64
 * float32), its training curve and its checkpoint rows. Written into the staging directory before
 * the rename that publishes the run (store.ts "Commit protocol"), so every published run folder
 * describes itself and the database is an index that can be rebuilt from the folders
 * (selfcheck.ts): an emptied, missing or damaged study.sqlite loses nothing, curves included.
 * Run folders of husai 0.1.0 have no record; the self-check writes one from their row.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../formats/io.js';
import type { StepMetrics } from '../sae/train.js';
import type { CheckpointRow, RunRow } from './store.js';

export const RUN_RECORD = 'husai-run.json';
const FORMAT = 'husai-run-record/1';

interface RunRecordFile {
  row: RunRow;
  curve: StepMetrics[];
  checkpoints: CheckpointRow[];
}

/** Writes `runDir`/husai-run.json (atomically). */
export function writeRunRecord(runDir: string, rec: RunRecordFile): void {
  const { firing, ...row } = rec.row;
  const body = {
    format: FORMAT,
    row: {
      ...row,
      firing: firing ? Buffer.from(firing.buffer, firing.byteOffset, firing.byteLength).toString('base64') : null,
    },
    // JSON has no NaN: non-finite curve values are written as null and read back as NaN.
    curve: rec.curve.map((m) =>
      Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number.isFinite(v) ? v : null])),
    ),
    checkpoints: rec.checkpoints,
  };
  writeFileAtomic(path.join(runDir, RUN_RECORD), [Buffer.from(`${JSON.stringify(body)}\n`, 'utf8')]);
}

/** Reads `runDir`/husai-run.json; null when absent or not a valid record (the caller says which). */
export function readRunRecord(runDir: string): RunRecordFile | null {
  let body: { format?: unknown; row?: Record<string, unknown>; curve?: unknown; checkpoints?: unknown };
  try {
    body = JSON.parse(fs.readFileSync(path.join(runDir, RUN_RECORD), 'utf8')) as typeof body;
  } catch {
    return null;
  }
  if (body?.format !== FORMAT || !body.row || !Array.isArray(body.curve) || !Array.isArray(body.checkpoints))
    return null;
  const r = body.row;
  if (typeof r.id !== 'string' || typeof r.weightsSha256 !== 'string' || r.status !== 'done') return null;
  let firing: Float32Array | null = null;
  if (typeof r.firing === 'string') {
    const b = Buffer.from(r.firing, 'base64');
    const copy = new Uint8Array(b.byteLength);
    copy.set(b);
    firing = new Float32Array(copy.buffer);
  }
  const curve = (body.curve as Array<Record<string, number | null>>).map(
    (m) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v ?? NaN])) as unknown as StepMetrics,
  );
  return { row: { ...(r as unknown as RunRow), firing }, curve, checkpoints: body.checkpoints as CheckpointRow[] };
}
