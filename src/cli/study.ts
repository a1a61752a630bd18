/**
 * `husai study`: train a study's SAEs across seeds, analyse their stability against chance, and
 * write its results and report (src/study/). Progress goes to stderr (cli/progress.ts: redrawn in
 * place on a TTY, a plain line every 10% otherwise) and the summary table (or --json) to stdout.
 *   husai study [SPEC.yaml] [--out DIR] [--shard I/N] [--no-report] [--json]
 *   husai study merge OUT DIR1 DIR2 …
 *   husai study --params [--json]   the training-parameter table (study/params.ts) and exit
 * Without SPEC it runs the built-in default study (studies/default.yaml) into runs/default/.
 * Killed at any point, the same command resumes without retraining finished runs.
 *
 * --jobs: worker processes on this machine (default auto: one per core when every run is small
 * enough that the trainer steps it on a single thread — then one process leaves cores idle — else
 * one). Each worker is this same command re-run with a hidden `--worker k/J` on the same directory;
 * it reports progress to its parent as `@progress {json}` lines on stdout and stops when the parent
 * disappears (its parent pid changes), so a killed study leaves no orphan training.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { HusaiError } from '../core/errors.js';
import { ProgressLine as PhaseLine } from './progress.js';
import { type ModArithSpec, ensureModArithModel } from '../study/modarith-data.js';
import { getEngine } from '../engine/index.js';
import type { StudyResults } from '../study/results.js';
import { type MetricTable, STABILITY_METRICS, cellStat, primaryMetric } from '../study/analysis/metric-table.js';
import {
  type ReportWriter,
  type Shard,
  type StudyOutcome,
  type StudyProgress,
  type WorkerPool,
  DB_FILE,
  autoJobs,
  builtinSpecPath,
  mergeStudies,
  parseShard,
  planStudy,
  runStudy,
  shardRuns,
} from '../study/index.js';
import { MAX_RUNS } from '../study/expand.js';
import { finishedRuns } from '../study/study.js';
import { writeReport } from '../report/index.js';
import { paramTable } from '../study/params.js';
import { parseAutoOrPositiveIntArg, parsePositiveIntArg } from './args.js';
import { sqliteFault } from './faults.js';
import { printJson } from './json.js';

interface StudyFlags {
  out?: string;
  shard?: string;
  jobs: number | 'auto';
  worker?: string;
  report: boolean;
  json?: boolean;
  params?: boolean;
  allowMixed?: boolean;
  maxRuns?: number;
}

interface MergeFlags {
  report: boolean;
  json?: boolean;
  allowMixed?: boolean;
}

const ALLOW_MIXED =
  "train on (merge) although the folder's runs came from another husai numerics version or engine; " +
  'results and report say which runs came from which';

/** The store self-check's repairs, on stderr as they happen. */
function warn(message: string): void {
  console.error(`warning: ${message}`);
}

export function registerStudy(program: Command): void {
  const study = program
    .command('study')
    .description(
      'train SAEs across seeds as a study spec says, measure feature stability against chance, write results + ' +
        'report (resumable)',
    )
    .argument('[spec]', 'study spec (YAML); default: the built-in default study (studies/default.yaml)')
    .option('--out <dir>', 'study directory (default: runs/<name> in the current directory)')
    .option(
      '--shard <I/N>',
      'train only runs i ≡ I (mod N) of the id-sorted run list; merge the shard directories afterwards',
    )
    .option(
      '--jobs <n>',
      'worker processes on this machine, or auto (one per core when every run trains on a single thread, else 1)',
      parseAutoOrPositiveIntArg,
      'auto' as const,
    )
    .addOption(new Option('--worker <k/J>', 'internal: run as worker k of J inside a parent study process').hideHelp())
    .option('--no-report', 'skip the HTML report (results.json is still written)')
    .option(
      '--max-runs <n>',
      `most runs a spec may plan (default ${MAX_RUNS}); a bigger grid is refused unexpanded`,
      parsePositiveIntArg,
    )
    .option('--json', 'print one JSON object (directory, run counts, timings, per-cell summary) instead of the table')
    .option(
      '--params',
      'print the training-parameter table (name, husai train flag, type, default, architectures, doc) and exit',
    )
    .option('--allow-mixed', ALLOW_MIXED)
    .action(async (spec: string | undefined, flags: StudyFlags) => {
      if (flags.params) {
        printParams(flags.json === true);
        return;
      }
      const shard = flags.shard !== undefined ? parseShard(flags.shard) : null;
      const specFile = path.resolve(spec ?? builtinSpecPath());
      if (flags.worker !== undefined) {
        await runWorker(specFile, flags.out, shard, parseShard(flags.worker), flags.maxRuns);
        return;
      }
      const plan = planStudy(specFile, { maxRuns: flags.maxRuns });
      const dir = path.resolve(flags.out ?? path.join('runs', plan.parsed.spec.name));
      const mine = shardRuns(plan.runs, shard).length;
      const finished = finishedRuns(dir, plan, shard);
      const inShard = shard ? ` (${mine} in shard ${shard.index}/${shard.count})` : '';
      console.error(
        `planned ${plan.runs.length} runs${inShard}` +
          (finished === null ? '' : ` (${mine - finished} to train, ${finished} finished)`),
      );
      if (plan.parsed.spec.data.kind === 'modarith') prepareModArith(plan.parsed.spec.data, plan.specDir);
      const jobs = flags.jobs === 'auto' ? autoJobs(plan.runs, os.availableParallelism()) : flags.jobs;
      const progress = new ProgressLine();
      const outcome = await runStudy(specFile, {
        out: flags.out,
        shard,
        allowMixed: flags.allowMixed === true,
        plan,
        maxRuns: flags.maxRuns,
        hooks: { onProgress: (p) => progress.update(p), onWarning: warn },
        report: flags.report ? reportWriter() : null,
        workers: jobs > 1 ? workerPool(specFile, shard, jobs, progress, flags.maxRuns) : null,
      })
        .catch((err: unknown) => {
          throw sqliteFault(err, path.join(dir, DB_FILE));
        })
        .finally(() => progress.end());
      checkFailures(outcome);
      printOutcome(outcome, flags.json === true);
    });

  study
    .command('merge')
    .description('merge shard directories of one spec into OUT, then analyse and report')
    .argument('<out>', 'merged study directory')
    .argument('<dirs...>', 'shard directories (same spec hash)')
    .option('--no-report', 'skip the HTML report')
    .option('--json', 'print one JSON object (directory, run counts, timings, per-cell summary) instead of the table')
    .option('--allow-mixed', ALLOW_MIXED)
    .action(async (out: string, dirs: string[], flags: MergeFlags) => {
      const progress = new ProgressLine();
      const outcome = await mergeStudies(out, dirs, {
        hooks: { onProgress: (p) => progress.update(p), onWarning: warn },
        report: flags.report ? reportWriter() : null,
        allowMixed: flags.allowMixed === true,
      }).finally(() => progress.end());
      printOutcome(outcome, flags.json === true, true);
    });
}

/**
 * A modarith study's model is trained once, here, before any worker starts (workers only load it);
 * its progress gets its own line.
 */
function prepareModArith(data: ModArithSpec, specDir: string): void {
  const dir = path.resolve(specDir, data.model_dir);
  if (fs.existsSync(path.join(dir, 'config.json'))) return;
  console.error(`training the modular-arithmetic model once, into ${dir} (reused by later runs)`);
  const bar = new PhaseLine('modarith model');
  ensureModArithModel(data, specDir, getEngine(), {
    onLog: (l, total) =>
      bar.update(
        l.step,
        total,
        `step ${l.step}  train ${(100 * l.train_acc).toFixed(1)}%  val ${(100 * l.val_acc).toFixed(1)}%`,
      ),
  });
  bar.done();
}

/** Worker side: train slice k/J into the parent's directory, reporting progress on stdout. */
async function runWorker(
  specFile: string,
  out: string | undefined,
  shard: Shard | null,
  worker: Shard,
  maxRuns: number | undefined,
): Promise<void> {
  const parent = process.ppid;
  await runStudy(specFile, {
    out,
    shard,
    worker,
    report: null,
    maxRuns,
    hooks: {
      onProgress: (p) => {
        if (process.ppid !== parent)
          throw new HusaiError(
            `worker ${worker.index}/${worker.count}: the parent study process (pid ${parent}) is gone; stopping`,
          );
        process.stdout.write(`@progress ${JSON.stringify(p)}\n`);
      },
    },
  });
}

/** Parent side: re-runs this command as J workers and merges their progress into one line. */
function workerPool(
  specFile: string,
  shard: Shard | null,
  jobs: number,
  progress: ProgressLine,
  maxRuns: number | undefined,
): WorkerPool {
  const at = process.argv.indexOf('study', 2);
  if (at < 0)
    throw new HusaiError(
      '--jobs: cannot find the "study" command in this process\'s arguments to re-run it',
      'pass --jobs 1',
    );
  const prefix = process.argv.slice(1, at);
  const threads = Math.max(1, Math.floor(os.availableParallelism() / jobs));
  const latest = new Map<number, StudyProgress>();
  const t0 = performance.now();
  let workers = jobs;
  const draw = (): void => {
    const ps = [...latest.values()];
    const total = ps.reduce((s, p) => s + p.runsTotal, 0);
    const fraction = total > 0 ? ps.reduce((s, p) => s + p.fraction * p.runsTotal, 0) / total : 0;
    const etas = ps.map((p) => p.etaSeconds).filter((e): e is number => e !== null);
    progress.update({
      phase: 'train',
      runsTotal: total,
      runsDone: ps.reduce((s, p) => s + p.runsDone, 0),
      runsSkipped: ps.reduce((s, p) => s + p.runsSkipped, 0),
      runsFailed: ps.reduce((s, p) => s + p.runsFailed, 0),
      fraction,
      elapsedSeconds: (performance.now() - t0) / 1000,
      etaSeconds: etas.length > 0 ? Math.max(...etas) : null,
      active: ps.flatMap((p) => p.active),
      message: `${ps.length} of ${workers} workers`,
    });
  };
  return {
    count: jobs,
    spawn: (k, count, dir) =>
      new Promise<void>((resolve, reject) => {
        workers = count;
        const args = [
          ...process.execArgv,
          ...prefix,
          'study',
          specFile,
          '--out',
          dir,
          '--worker',
          `${k}/${count}`,
          '--no-report',
          ...(shard ? ['--shard', `${shard.index}/${shard.count}`] : []),
          ...(maxRuns !== undefined ? ['--max-runs', String(maxRuns)] : []),
        ];
        const child = spawn(process.execPath, args, {
          env: { ...process.env, HUSAI_THREADS: String(threads) },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let buf = '';
        let err = '';
        child.stdout.on('data', (b: Buffer) => {
          buf += b.toString();
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!line.startsWith('@progress ')) continue;
            latest.set(k, JSON.parse(line.slice(10)) as StudyProgress);
            draw();
          }
        });
        child.stderr.on('data', (b: Buffer) => {
          err = (err + b.toString()).slice(-4000);
        });
        child.on('error', reject);
        child.on('exit', (code, signal) => {
          if (code === 0) resolve();
          else
            reject(
              new HusaiError(
                `study worker ${k}/${count} exited with ${code ?? signal}${err ? `:\n${err.trim()}` : ''}`,
              ),
            );
        });
      }),
  };
}

/** The report writer: src/report/ renders DIR/results.json into report.html + figures/. */
function reportWriter(): ReportWriter {
  return writeReport;
}

/** Progress on stderr through cli/progress.ts: one line per phase (train, analyse, report), redrawn on a TTY. */
class ProgressLine {
  private line: PhaseLine | null = null;
  private phase = '';

  update(p: StudyProgress): void {
    if (p.phase !== this.phase) {
      this.line?.done();
      this.phase = p.phase;
      this.line = p.phase === 'done' ? null : new PhaseLine(p.phase === 'train' ? 'train  ' : p.phase);
    }
    this.line?.update(Math.round(1000 * p.fraction), 1000, p.phase === 'train' ? trainNote(p) : '');
  }

  end(): void {
    this.line?.done();
    this.line = null;
  }
}

/** "12/40 runs (8 already done) [2 workers] | topk m=128 k=3 seed 2 1500/3000, … +6" */
function trainNote(p: StudyProgress): string {
  const skipped = p.runsSkipped ? ` (${p.runsSkipped} already done)` : '';
  const failed = p.runsFailed ? `, ${p.runsFailed} failed` : '';
  const workers = p.message?.endsWith('workers') ? ` [${p.message}]` : '';
  const runs = `${p.runsDone}/${p.runsTotal} runs${skipped}${failed}${workers}`;
  const act = p.active
    .slice(0, 2)
    .map((a) => `${a.label} ${a.step}/${a.totalSteps}`)
    .join(', ');
  return `${runs}${act ? ` | ${act}${p.active.length > 2 ? ` +${p.active.length - 2}` : ''}` : ''}`;
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60
    ? `${m}m${String(Math.round(s - 60 * m)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function num(x: number | null | undefined, digits = 3): string {
  return x === null || x === undefined ? '–' : x.toFixed(digits);
}

function pval(p: number | null): string {
  return p === null ? '–' : p < 1e-4 ? p.toExponential(0) : p.toFixed(4);
}

/**
 * Per-cell summary for --json: the primary metric of the metric table (study/analysis/metric-table.ts)
 * with its nulls, excess, ratio and Holm p; each secondary metric's value and random null as
 * `<key>` and `<key>_null`; gt_mcc, L0 and EV.
 */
function summaryCells(r: StudyResults, metrics: MetricTable): Array<Record<string, unknown>> {
  const primary = primaryMetric(metrics);
  return r.cells.map((c) => {
    const p = cellStat(c, primary);
    const out: Record<string, unknown> = {
      id: c.id,
      label: c.label,
      seeds: c.seeds.length,
      [primary.key]: p?.estimate ?? null,
      null_random: p?.nullRandom.mean ?? null,
      null_untrained: p?.nullUntrained?.mean ?? null,
      excess: p?.excess ?? null,
      ratio: p?.ratio ?? null,
      p_holm: p?.pHolm ?? null,
    };
    for (const m of metrics.filter((x) => x.headline === 'secondary')) {
      const s = cellStat(c, m);
      out[m.key] = s?.estimate.mean ?? null;
      out[`${m.key}_null`] = s?.nullRandom.mean ?? null;
    }
    return {
      ...out,
      gt_mcc: c.groundTruth?.gtMcc.mean ?? null,
      l0: c.l0.mean,
      explained_variance: c.explainedVariance.mean,
    };
  });
}

/**
 * The table `husai study` prints: one line per cell, the primary metric [CI] with its nulls, excess,
 * ratio and Holm p, then each secondary metric as "value (null)", gt_mcc and L0.
 */
export function studyTable(r: StudyResults, metrics: MetricTable = STABILITY_METRICS): string[] {
  const tau = r.cells[0]?.tau ?? 0.7;
  const primary = primaryMetric(metrics);
  const secondary = metrics.filter((x) => x.headline === 'secondary');
  const d = primary.digits;
  const header = [
    'cell',
    'S',
    `${primary.column(tau)} [95% CI]`,
    'random',
    'untrained',
    'excess',
    'ratio',
    'p (Holm)',
    ...secondary.map((m) => m.column(tau)),
    'gt_mcc',
    'L0',
  ];
  const rows = r.cells.map((c) => {
    const p = cellStat(c, primary);
    const e = p?.estimate;
    return [
      c.label,
      String(c.seeds.length),
      `${num(e?.mean, d)} [${num(e?.lo, d)}, ${num(e?.hi, d)}]`,
      num(p?.nullRandom.mean, d),
      num(p?.nullUntrained?.mean, d),
      num(p?.excess, d),
      p?.ratio === null || p?.ratio === undefined ? '–' : `${p.ratio.toFixed(2)}×`,
      pval(p?.pHolm ?? null),
      ...secondary.map((m) => {
        const s = cellStat(c, m);
        return `${num(s?.estimate.mean, m.digits)} (${num(s?.nullRandom.mean, m.digits)})`;
      }),
      num(c.groundTruth?.gtMcc.mean),
      num(c.l0.mean, 1),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmtRow = (row: string[]): string =>
    row.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  return [fmtRow(header), ...rows.map(fmtRow)];
}

function printOutcome(o: StudyOutcome, json: boolean, merge = false): void {
  const runs = {
    total: o.runsTotal,
    here: o.runsHere,
    trained: o.trained.length,
    skipped: o.skipped.length,
    failed: o.failed.length,
    merged: o.merged.length,
    missing: o.missing,
  };
  if (o.cleaned.length > 0)
    console.error(
      `resumed: removed ${o.cleaned.length} partial entr${o.cleaned.length === 1 ? 'y' : 'ies'} ` +
        `(${o.cleaned.slice(0, 3).join(', ')}${o.cleaned.length > 3 ? ', …' : ''})`,
    );
  if (o.missing > 0 && o.results)
    console.error(
      `warning: ${o.missing} run(s) of the spec are not in this directory; statistics use the runs present`,
    );
  if (json) {
    printJson({
      dir: o.dir,
      specHash: o.specHash,
      results: o.resultsPath,
      report: o.reportPath,
      runs,
      timings: o.timings,
      cells: o.results ? summaryCells(o.results, STABILITY_METRICS) : [],
    });
    return;
  }
  const what = merge
    ? `merged ${runs.merged} run(s), ${runs.skipped} already there; ${runs.total - runs.missing} of ${runs.total}`
    : `${runs.trained} trained, ${runs.skipped} already done${runs.failed ? `, ${runs.failed} failed` : ''} ` +
      `of ${runs.here}${runs.here !== runs.total ? ` (shard of ${runs.total})` : ''}`;
  console.log(
    `study ${o.dir}: ${what}` +
      ` — train ${duration(o.timings.trainSeconds)}, analyses ${duration(o.timings.analysisSeconds)}, report ` +
      `${duration(o.timings.reportSeconds)}, total ${duration(o.timings.totalSeconds)}`,
  );
  if (!o.results) {
    console.log(
      o.runsHere !== o.runsTotal
        ? `shard done; merge the shard directories with: husai study merge OUT ${o.dir} …`
        : 'no analyses run',
    );
    return;
  }
  for (const line of studyTable(o.results)) console.log(line);
  console.log(`results: ${o.resultsPath}`);
  console.log(o.reportPath ? `report:  ${o.reportPath}` : 'report:  (none written)');
}

/**
 * A study in which no run of this invocation finished (every run diverged or failed) is a failure:
 * a HusaiError with the counts and the first stored error (exit 1). Some failed: a warning.
 */
function checkFailures(o: StudyOutcome): void {
  if (o.failed.length === 0 && !o.firstError) return;
  const failed = o.runsHere - (o.done ?? 0);
  if ((o.done ?? 0) === 0 && o.runsHere > 0) {
    const first = o.firstError ?? 'unknown';
    throw new HusaiError(
      `study ${o.dir}: all ${o.runsHere} run(s) failed; the first error: ${first}`,
      'see docs/SCIENCE.md on learning rates: lower lr, or check the data (finite, non-constant rows)',
    );
  }
  console.error(`warning: ${failed} of ${o.runsHere} run(s) failed; the first error: ${o.firstError ?? 'unknown'}`);
}

/** `husai study --params`: the parameter vocabulary shared by study specs and `husai train`. */
function printParams(json: boolean): void {
  const rows = paramTable();
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  console.log(['name', 'flag', 'type', 'default', 'architectures', 'doc'].join('\t'));
  for (const r of rows)
    console.log(
      [r.name, r.flag ?? '—', r.type, r.default, r.archs === 'all' ? 'all' : r.archs.join(','), r.doc].join('\t'),
    );
}
