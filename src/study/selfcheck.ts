/**
 * The store self-check on resume (issue 12 "damaged state is trusted or stuck"): before a study
 * trains, every finished run is verified against its row, and what cannot be trusted is moved aside
 * (quarantine.ts) and retrained — never used, never deleted:
 * - a done row whose folder, cfg.json, weights or checkpoint folders are missing or damaged, or whose
 *   weights (final or checkpoint) no longer hash to the recorded sha256: warning, folder quarantined,
 *   row removed, run retrained;
 * - a run folder without a row (a crash between rename and commit, or an emptied / missing / damaged
 *   study.sqlite): adopted from its husai-run.json (run-record.ts) when the run belongs to the spec
 *   and its hashes check out, so the database is rebuilt rather than the runs deleted; a folder
 *   without a valid record is quarantined and retrained;
 * - husai's partial work is removed: staging folders (.staging-<id>-<pid>), writeSaeLens temporary
 *   siblings (.<name>.tmp|old-<pid>-<n>) and writeFileAtomic temporaries (<name>.tmp-<pid>) of
 *   processes that are gone. Only names husai makes are touched: anything else in the study folder
 *   or in runs/ is left alone (with a warning for runs/).
 */
import fs from 'node:fs';
import path from 'node:path';
import { sha256File } from '../formats/io.js';
import { SAELENS_WEIGHTS } from '../sae/checkpoint/index.js';
import { quarantine } from './quarantine.js';
import { RUN_RECORD, readRunRecord, writeRunRecord } from './run-record.js';
import { checkpointRel } from './saedir.js';
import { RUNS_DIR, type CheckpointRow, type RunRow, type StudyStore } from './store.js';

const CFG = 'cfg.json';
/** A run folder name: the 12 hex digits of run-id.ts. */
const RUN_NAME = /^[0-9a-f]{12}$/;
const STAGING = /^\.staging-[0-9a-f]{12}-(\d+)$/;
const SIBLING = /^\..+\.(?:tmp|old)-(\d+)-\d+$/;
const ATOMIC_TMP = /\.tmp-(\d+)$/;
/** Files husai writes atomically at the top of a study folder, and inside a run folder. */
const TOP_FILES = new Set(['manifest.json', 'results.json', 'spec.yaml', 'report.html']);
const RUN_FILES = new Set([CFG, SAELENS_WEIGHTS, RUN_RECORD]);

export interface SelfCheck {
  /** Runs finished and verified (done) or failed, by id. */
  finished: Map<string, RunRow>;
  /** Partial entries removed. */
  cleaned: string[];
  /** What was repaired (quarantined, adopted, rebuilt), one line each, for stderr. */
  warnings: string[];
}

/**
 * Verifies the store against its run folders and repairs it (see the header). `planned` maps the
 * spec's run ids to their config hashes: only those folders are adopted without a row.
 */
export function selfCheck(store: StudyStore, planned: ReadonlyMap<string, string> | null): SelfCheck {
  const out: SelfCheck = { finished: new Map(), cleaned: [], warnings: [...store.notes] };
  const dir = store.dir;
  const runsDir = path.join(dir, RUNS_DIR);
  fs.mkdirSync(runsDir, { recursive: true });
  cleanTemporaries(dir, out.cleaned, null);
  const names = fs.readdirSync(runsDir);
  for (const name of names) {
    const staging = STAGING.exec(name) ?? SIBLING.exec(name);
    if (staging && Number(staging[1]) !== process.pid) {
      fs.rmSync(path.join(runsDir, name), { recursive: true, force: true });
      out.cleaned.push(name);
    } else if (!staging && !RUN_NAME.test(name)) {
      out.warnings.push(`${path.join(RUNS_DIR, name)} is not a husai run folder; left alone`);
    }
  }
  for (const name of names)
    if (RUN_NAME.test(name)) cleanTemporaries(path.join(runsDir, name), out.cleaned, `${RUNS_DIR}/${name}`);

  const rows = new Map(store.runs().map((r) => [r.id, r]));
  let restored = 0;
  for (const row of rows.values()) {
    if (row.status === 'failed') {
      out.finished.set(row.id, row);
      continue;
    }
    const runDir = path.join(dir, row.dir);
    const cks = store.checkpoints(row.id);
    const problem = verifyRun(runDir, row, cks);
    if (problem === null) {
      out.finished.set(row.id, row);
      if (!fs.existsSync(path.join(runDir, RUN_RECORD)))
        writeRunRecord(runDir, { row, curve: store.curve(row.id), checkpoints: cks });
      continue;
    }
    store.deleteRun(row.id);
    if (fs.existsSync(runDir)) {
      const moved = quarantine(dir, [row.dir], row.id);
      out.warnings.push(`${row.dir}: ${problem}; moved to ${moved}, retraining it`);
    } else {
      out.warnings.push(`${row.dir}: ${problem}; retraining it`);
    }
  }
  for (const name of names) {
    if (!RUN_NAME.test(name) || rows.has(name) || !fs.existsSync(path.join(runsDir, name))) continue;
    const rel = path.posix.join(RUNS_DIR, name);
    const rec = readRunRecord(path.join(runsDir, name));
    if (rec && planned && !planned.has(name)) {
      out.warnings.push(`${rel} has no row and is not a run of this spec; left alone`);
      continue;
    }
    const problem =
      rec === null
        ? `no row in the database and no valid ${RUN_RECORD}`
        : rec.row.id !== name || (planned && planned.get(name) !== rec.row.configHash)
          ? `${RUN_RECORD} describes another run`
          : verifyRun(path.join(runsDir, name), rec.row, rec.checkpoints);
    if (problem === null && rec) {
      store.commitRun({ ...rec.row, dir: rel }, rec.curve, rec.checkpoints);
      out.finished.set(name, store.run(name) as RunRow);
      out.warnings.push(`${rel}: finished run without a database row; restored from its ${RUN_RECORD}`);
      restored++;
    } else {
      const moved = quarantine(dir, [rel], name);
      out.warnings.push(`${rel}: ${problem}; moved to ${moved}, retraining it`);
    }
  }
  if (restored > 0 && store.getMeta('train_wall_seconds') === null) {
    out.warnings.push(
      `study.sqlite was rebuilt from the run folders: ${restored} run(s) with their curves and checkpoints restored; ` +
        "the analyses are recomputed; the training wall time becomes the sum of the runs' times; failed runs (no " +
        'folder) are retried',
    );
  }
  return out;
}

/** Null when the run folder matches its row (cfg.json readable, weights hashes equal), else what is wrong. */
function verifyRun(runDir: string, row: RunRow, cks: readonly CheckpointRow[]): string | null {
  if (!fs.existsSync(runDir)) return 'the run folder is missing';
  const own = checkSae(runDir, row.weightsSha256);
  if (own) return own;
  let steps: number[] = [];
  try {
    steps = (JSON.parse(row.config) as { checkpoints?: number[] }).checkpoints ?? [];
  } catch {
    return 'its database row is damaged';
  }
  const bySha = new Map(cks.map((c) => [c.step, c.sha256]));
  for (const step of steps) {
    const problem = checkSae(path.join(runDir, checkpointRel(step)), bySha.get(step) ?? null);
    if (problem) return `checkpoint step ${step}: ${problem}`;
  }
  return null;
}

/** Null when DIR has a JSON cfg.json and weights hashing to `sha` (when given). */
function checkSae(dir: string, sha: string | null): string | null {
  if (!fs.existsSync(dir)) return `${path.basename(dir)} is missing`;
  try {
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, CFG), 'utf8')) as unknown;
    if (typeof cfg !== 'object' || cfg === null) return `${CFG} is damaged (not a JSON object)`;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${CFG} is missing` : `${CFG} is damaged (not JSON)`;
  }
  const weights = path.join(dir, SAELENS_WEIGHTS);
  if (!fs.existsSync(weights)) return `${SAELENS_WEIGHTS} is missing`;
  if (sha !== null && sha256File(weights).sha256 !== sha)
    return `${SAELENS_WEIGHTS} does not match its recorded sha256`;
  return null;
}

/**
 * Removes writeFileAtomic temporaries (<name>.tmp-<pid>, formats/io.ts) of processes that are gone,
 * in `dir`, for the names husai writes there only. `label`: `dir` relative to the study folder.
 */
function cleanTemporaries(dir: string, cleaned: string[], label: string | null): void {
  const ours = label === null ? TOP_FILES : RUN_FILES;
  for (const name of fs.readdirSync(dir)) {
    const m = ATOMIC_TMP.exec(name);
    if (!m || !ours.has(name.slice(0, m.index)) || Number(m[1]) === process.pid || pidAlive(Number(m[1]))) continue;
    if (!fs.lstatSync(path.join(dir, name)).isFile()) continue;
    fs.rmSync(path.join(dir, name), { force: true });
    cleaned.push(label === null ? name : `${label}/${name}`);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
