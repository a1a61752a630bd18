/**
 * The error boundary (issue 12, deliverable 5): bad inputs a user can give, through the real CLI
 * (`node bin/husai.js`, compiled into dist/ first). Each case asserts the exit code (1 for a fault,
 * 2 for a usage error), one `husai:` line on stderr naming the file or flag, no stack frame, and a
 * time bound — a FIFO must be refused, not read forever; a 10^6-run grid refused before it is
 * expanded. Plus an injected ENOSPC (fs.writeSync made to fail in-process) and the boundary's
 * dictionary (cli/faults.ts) for faults that need a broken disk to cause.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeFault, sqliteFault } from '../../src/cli/faults.js';
import { runCli } from '../../src/cli/program.js';
import { ensureDist } from './dist.js';
import { encodeNpyHeader } from '../../src/formats/npy.js';

const repo = path.resolve(__dirname, '..', '..');
let tmp: string;

interface Run {
  code: number | null;
  out: string;
  err: string;
  ms: number;
}

/** Runs `node bin/husai.js ARGS` in the temp folder (asynchronously: the cases run a few at a time). */
function husai(args: string[], env: Record<string, string> = {}, timeoutMs = 30_000): Promise<Run> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(repo, 'bin', 'husai.js'), ...args],
      {
        cwd: tmp,
        encoding: 'utf8',
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        env: { ...process.env, HUSAI_THREADS: '1', HUSAI_DEBUG: '', ...env },
      },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        resolve({ code, out: stdout, err: stderr, ms: Date.now() - t0 });
      },
    );
  });
}

/** Runs the jobs `width` at a time; the results in job order. */
async function pool<T>(jobs: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]();
      }
    }),
  );
  return out;
}

const write = (rel: string, text: string | Buffer): string => {
  fs.mkdirSync(path.dirname(path.join(tmp, rel)), { recursive: true });
  fs.writeFileSync(path.join(tmp, rel), text);
  return rel;
};

/** A tiny exact-k study spec (synthetic data, d = 8) with the given extra YAML lines. */
const spec = (name: string, extra: string): string => `name: ${name}
question: what does husai say about this spec?
data:
  kind: synthetic
  generator: exact-k
  options: { n: 512, d: 8, features: 12, k: 2, seed: 0 }
${extra}
`;

beforeAll(async () => {
  // bin/husai.js runs dist/cli/main.js: compile src/ as `npm run build` does, so this tests this tree.
  // (asynchronously, so vitest's worker stays responsive while it compiles); skipped when dist/ is
  // newer than every source file (tsc rewrites every output, so main.js dates the last build).
  await ensureDist();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'husai-faults-'));

  const syn = await husai([
    'synth',
    '--kind',
    'exact-k',
    '--samples',
    '512',
    '--d',
    '8',
    '--features',
    '12',
    '--k',
    '2',
    '--out',
    'syn',
  ]);
  if (syn.code !== 0) throw new Error(syn.err);
  const tr = await husai([
    'train',
    '--data',
    'syn',
    '--arch',
    'topk',
    '--width',
    '16',
    '--k',
    '2',
    '--steps',
    '20',
    '--seeds',
    '0',
    '--out',
    'sae',
  ]);
  if (tr.code !== 0) throw new Error(tr.err);

  fs.mkdirSync(path.join(tmp, 'a-dir'));
  fs.mkdirSync(path.join(tmp, 'empty-dir'));
  // FIFOs (named pipes): no writer ever opens them, so reading one would block forever.
  fs.mkdirSync(path.join(tmp, 'fifo-sae'));
  fs.copyFileSync(path.join(tmp, 'sae', 'cfg.json'), path.join(tmp, 'fifo-sae', 'cfg.json'));
  for (const f of ['fifo-sae/sae_weights.safetensors', 'fifo.npy', 'fifo.yaml'])
    execFileSync('mkfifo', [path.join(tmp, f)]);

  // A .npy header declaring 10^12 float32 values over 64 bytes of data.
  write('huge.npy', Buffer.concat([encodeNpyHeader([1_000_000, 1_000_000], 'f4'), Buffer.alloc(64)]));
  // A safetensors header whose one tensor entry is 100,000 nested arrays (valid JSON).
  const bomb = Buffer.from(`{"t":${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(bomb.length));
  write('bomb.safetensors', Buffer.concat([len, bomb]));
  // All-zero activations [512×8].
  write('zero.npy', Buffer.concat([encodeNpyHeader([512, 8], 'f4'), Buffer.alloc(512 * 8 * 4)]));
  // An SAE folder whose cfg.json is cut off.
  fs.mkdirSync(path.join(tmp, 'bad-cfg'));
  fs.copyFileSync(
    path.join(tmp, 'sae', 'sae_weights.safetensors'),
    path.join(tmp, 'bad-cfg', 'sae_weights.safetensors'),
  );
  write('bad-cfg/cfg.json', '{"d_in": 8, "d_sae": ');

  const chain = ['a', 'b', 'c', 'd', 'e', 'f'];
  write(
    'alias-bomb.yaml',
    spec(
      'bomb',
      [
        'a: &a [x,x,x,x,x,x,x,x,x,x]',
        ...chain.slice(1).map((k, i) => `${k}: &${k} [${Array(10).fill(`*${chain[i]}`).join(',')}]`),
      ].join('\n'),
    ),
  );
  const hundred = Array.from({ length: 100 }, (_, i) => i).join(', ');
  write(
    'million.yaml',
    spec(
      'million',
      `defaults: { arch: topk, steps: 10, batch_size: 64, k: 2 }\ngrid:\n  seed: &s [${hundred}]\n  data_seed: *s\n  width: [${Array.from({ length: 100 }, (_, i) => i + 16).join(', ')}]`,
    ),
  );
  write(
    'twelve.yaml',
    spec(
      'twelve',
      'defaults: { arch: topk, steps: 10, batch_size: 64, k: 2, width: 16 }\ngrid:\n  seed: [0, 1, 2, 3, 4, 5]\n  data_seed: [0, 1]',
    ),
  );
  write('broken.yaml', 'name: broken\nquestion: [unclosed\n');
  write(
    'diverge.yaml',
    spec('diverge', 'defaults: { arch: relu, steps: 50, batch_size: 64, lr: 1e30, width: 16 }\ngrid:\n  seed: [0, 1]'),
  );
  write('bad-matrix.json', '{"models": [');

  // Every CLI run of the tests below, 4 at a time (the machine may be busy: timings are per command).
  const jobs: Array<() => Promise<unknown>> = [
    ...CASES.map(
      ([title, args, , , maxMs, env]) =>
        async () =>
          results.set(title, await husai(args, env, maxMs + 10_000)),
    ),
    async () => results.set('million-2', await husai(['study', 'million.yaml', '--out', 'o-million2'])),
    async () => {
      results.set(
        'planned-1',
        await husai(['study', 'diverge.yaml', '--out', 'o-planned', '--no-report', '--jobs', '1']),
      );
      results.set(
        'planned-2',
        await husai(['study', 'diverge.yaml', '--out', 'o-planned', '--no-report', '--jobs', '1']),
      );
    },
    async () => results.set('threads-64', await husai(['info', '--json'], { HUSAI_THREADS: '64' })),
    async () =>
      results.set('debug', await husai(['compare', 'sae', '--ground-truth', 'missing-gt.npy'], { HUSAI_DEBUG: '1' })),
  ];
  await pool(jobs, 4);
}, 300_000);

const results = new Map<string, Run>();
const result = (key: string): Run => {
  const r = results.get(key);
  if (r === undefined) throw new Error(`no CLI run recorded for ${key}`);
  return r;
};

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

const TRAIN = ['--arch', 'topk', '--width', '16', '--k', '2', '--steps', '20', '--seeds', '0'];

/** [title, args, exit code, the `husai:` line, time bound (ms), env]. */
const CASES: Array<[string, string[], number, RegExp, number, Record<string, string>?]> = [
  [
    'missing --ground-truth file',
    ['compare', 'sae', '--ground-truth', 'missing-gt.npy'],
    1,
    /^husai: missing-gt\.npy: no such file or directory \(check the path\)$/,
    20_000,
  ],
  [
    'directory as --ground-truth',
    ['compare', 'sae', '--ground-truth', 'a-dir'],
    1,
    /^husai: a-dir is a directory, expected a regular file$/,
    20_000,
  ],
  [
    'empty directory as --data',
    ['train', '--data', 'empty-dir', ...TRAIN, '--out', 'o-empty'],
    1,
    /^husai: empty-dir: shards: found no \.npy or \.safetensors files/,
    20_000,
  ],
  [
    'missing --data',
    ['train', '--data', 'missing.npy', ...TRAIN, '--out', 'o-missing'],
    1,
    /^husai: missing\.npy: path: found nothing there/,
    20_000,
  ],
  [
    'FIFO as SAE weights',
    ['compare', 'fifo-sae', 'sae'],
    1,
    /^husai: fifo-sae\/sae_weights\.safetensors is a FIFO \(named pipe\), expected a regular file$/,
    20_000,
  ],
  [
    'FIFO as --data',
    ['train', '--data', 'fifo.npy', ...TRAIN, '--out', 'o-fifo'],
    1,
    /^husai: fifo\.npy is a FIFO \(named pipe\), expected a regular file$/,
    20_000,
  ],
  [
    'FIFO as --ground-truth',
    ['compare', 'sae', '--ground-truth', 'fifo.npy'],
    1,
    /^husai: fifo\.npy is a FIFO \(named pipe\), expected a regular file$/,
    20_000,
  ],
  [
    'FIFO as the study spec',
    ['study', 'fifo.yaml', '--out', 'o-fifo-spec'],
    1,
    /^husai: \S*fifo\.yaml is a FIFO \(named pipe\), expected a regular file$/,
    20_000,
  ],
  [
    'missing study spec',
    ['study', 'missing.yaml', '--out', 'o-missing-spec'],
    1,
    /^husai: \S*missing\.yaml: no such file or directory/,
    20_000,
  ],
  [
    '.npy declaring 10^12 values',
    ['train', '--data', 'huge.npy', ...TRAIN, '--out', 'o-huge'],
    1,
    /^husai: huge\.npy: data: found 64 bytes after the header, expected 4000000000000 bytes for shape \[1000000×1000000\]/,
    20_000,
  ],
  [
    'safetensors header nesting bomb',
    ['train', '--data', 'bomb.safetensors', ...TRAIN, '--out', 'o-bomb'],
    1,
    /^husai: bomb\.safetensors: header: found JSON nested more than 8 levels deep/,
    20_000,
  ],
  [
    'YAML alias bomb',
    ['study', 'alias-bomb.yaml', '--out', 'o-alias'],
    1,
    /^husai: \S*alias-bomb\.yaml:\d+: \(yaml\): found aliases that expand too far/,
    20_000,
  ],
  [
    'a 10^6-run grid',
    ['study', 'million.yaml', '--out', 'o-million'],
    1,
    /^husai: \S*million\.yaml:\d+: grid: found 1,000,000 runs \(.*\), expected at most 10,000 runs \(raise the limit with --max-runs N/,
    20_000,
  ],
  [
    'a 12-run grid over --max-runs 10',
    ['study', 'twelve.yaml', '--out', 'o-twelve', '--max-runs', '10'],
    1,
    /^husai: \S*twelve\.yaml:\d+: grid: found 12 runs .*at most 10 runs/,
    20_000,
  ],
  [
    'malformed YAML',
    ['study', 'broken.yaml', '--out', 'o-broken'],
    1,
    /^husai: \S*broken\.yaml:\d+: \(yaml\): found a YAML syntax error/,
    20_000,
  ],
  [
    'malformed SAE cfg.json',
    ['compare', 'bad-cfg', 'sae'],
    1,
    /^husai: bad-cfg\/cfg\.json: cfg\.json: found invalid JSON/,
    20_000,
  ],
  [
    'malformed --matrix JSON',
    ['universality', '--matrix', 'bad-matrix.json', '--out', 'o-u'],
    1,
    /^husai: bad-matrix\.json: content: found .*JSON/,
    20_000,
  ],
  [
    'zero-variance data',
    ['train', '--data', 'zero.npy', ...TRAIN, '--out', 'o-zero'],
    1,
    /^husai: zero\.npy: variance: found 0 over the 512 sampled rows \(every value 0\), expected rows that vary$/,
    20_000,
  ],
  [
    'every run diverges (lr 1e30)',
    ['study', 'diverge.yaml', '--out', 'o-diverge', '--no-report', '--jobs', '1'],
    1,
    /^husai: study \S*o-diverge: all 2 run\(s\) failed; the first error: run [0-9a-f]+: step \d+: loss is NaN$/,
    60_000,
  ],
  [
    'HUSAI_THREADS=abc',
    ['info'],
    2,
    /^husai: HUSAI_THREADS=abc: expected a whole number of threads ≥ 1/,
    20_000,
    { HUSAI_THREADS: 'abc' },
  ],
  [
    'HUSAI_THREADS=0',
    ['info'],
    2,
    /^husai: HUSAI_THREADS=0: expected a whole number of threads ≥ 1/,
    20_000,
    { HUSAI_THREADS: '0' },
  ],
  [
    '--seeds 1,x',
    ['train', '--data', 'syn', '--arch', 'topk', '--width', '8', '--seeds', '1,x', '--out', 'o'],
    2,
    /^error: option '--seeds <[^>]*>' argument '1,x' is invalid\. 'x' is not an integer/,
    20_000,
  ],
  [
    'synth --d abc',
    ['synth', '--d', 'abc', '--out', 'o'],
    2,
    /^error: option '--d <d>' argument 'abc' is invalid\. 'abc' is not an integer/,
    20_000,
  ],
];

describe('bad inputs through bin/husai.js: one line naming the file or flag, no stack trace, bounded time', () => {
  it.each(CASES)(
    '%s: one husai: line naming it, the exit code of the table, no stack, in time',
    (title, _args, code, line, maxMs) => {
      const r = result(title);
      expect(r.ms, `took ${r.ms} ms`).toBeLessThan(maxMs);
      expect(r.code, r.err).toBe(code);
      expect(r.err).not.toMatch(/^\s+at /m);
      const lines = r.err.split('\n').filter((l) => l.startsWith('husai:') || l.startsWith('error:'));
      expect(lines, r.err).toHaveLength(1);
      expect(lines[0]).toMatch(line);
    },
  );

  it('a 10^6-run grid: refused before expanding, nothing written', () => {
    const r = result('million-2');
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(20_000);
    expect(fs.existsSync(path.join(tmp, 'o-million2'))).toBe(false);
  });

  it('husai study: "planned N runs (N to train, 0 finished)" on stderr before training', () => {
    const r = result('planned-1');
    expect(r.err.split('\n')[0]).toBe('planned 2 runs (2 to train, 0 finished)');
    const again = result('planned-2');
    expect(again.err.split('\n')[0]).toBe('planned 2 runs (0 to train, 2 finished)');
    expect(again.code).toBe(1);
  });

  it.runIf(os.availableParallelism() < 64)(
    'HUSAI_THREADS=64: capped at the core count with one warning, exit 0',
    () => {
      const r = result('threads-64');
      expect(r.code, r.err).toBe(0);
      const cores = os.availableParallelism();
      expect(r.err).toContain(`warning: HUSAI_THREADS=64 is more than the ${cores} cores here; using ${cores}`);
      const info = JSON.parse(r.out) as { engine: string; threads: number };
      // the reference engine is single-threaded whatever HUSAI_THREADS asks (HUSAI_ENGINE=reference runs)
      expect(info.threads).toBe(info.engine === 'reference' ? 1 : cores);
    },
  );

  it('HUSAI_DEBUG=1 adds the stack trace', () => {
    const r = result('debug');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^husai: missing-gt\.npy: no such file or directory/);
    expect(r.err).toMatch(/^\s+at /m);
  });
});

describe('injected ENOSPC (fs.writeSync fails as on a full disk), in process', () => {
  it('runCli(synth …): "no space left on device writing …acts.npy: free space and rerun", exit 1, no temp file left', async () => {
    const out = path.join(tmp, 'full');
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
    });
    const writeSync = vi.spyOn(fs, 'writeSync').mockImplementation(() => {
      throw enospc;
    });
    const errors: string[] = [];
    const log = vi
      .spyOn(console, 'error')
      .mockImplementation((...a: unknown[]) => void errors.push(a.map(String).join(' ')));
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    let code: number;
    try {
      code = await runCli([
        'node',
        'husai',
        'synth',
        '--kind',
        'exact-k',
        '--samples',
        '256',
        '--d',
        '8',
        '--features',
        '12',
        '--k',
        '2',
        '--out',
        out,
      ]);
    } finally {
      writeSync.mockRestore();
      log.mockRestore();
      vi.restoreAllMocks();
    }
    expect(code).toBe(1);
    expect(errors.join('\n')).toMatch(
      // synth writes into a sibling temp folder (.full.tmp-PID-N) that it swaps in only when complete
      /^husai: no space left on device writing \S*full\S*\/acts\.npy: free space and rerun; finished work is kept$/m,
    );
    expect(errors.join('\n')).not.toMatch(/^\s+at /m);
    const left = fs.existsSync(out) ? fs.readdirSync(out).filter((f) => f.includes('.tmp-')) : [];
    expect(left).toEqual([]);
    expect(fs.readdirSync(tmp).filter((f) => f.startsWith('.full.tmp-'))).toEqual([]);
  });
});

describe('describeFault (cli/faults.ts)', () => {
  const sqlite = (code: string, message: string): Error =>
    Object.assign(new Error(message), { name: 'SqliteError', code });

  it('sqliteFault(SQLITE_FULL, db): no space left on device writing the db, finished work kept', () => {
    expect(
      (sqliteFault(sqlite('SQLITE_FULL', 'database or disk is full'), 'runs/x/study.sqlite') as Error).message,
    ).toBe('no space left on device writing runs/x/study.sqlite: free space and rerun; finished work is kept');
  });

  it('sqliteFault(SQLITE_CORRUPT / SQLITE_NOTADB / SQLITE_IOERR_WRITE, db) name the db; other errors pass through', () => {
    expect(
      (sqliteFault(sqlite('SQLITE_CORRUPT', 'database disk image is malformed'), 'd/study.sqlite') as Error).message,
    ).toMatch(/^d\/study\.sqlite is damaged/);
    expect((sqliteFault(sqlite('SQLITE_NOTADB', 'file is not a database'), 'd/study.sqlite') as Error).message).toMatch(
      /^d\/study\.sqlite is not an SQLite database/,
    );
    expect((sqliteFault(sqlite('SQLITE_IOERR_WRITE', 'disk I/O error'), 'd/study.sqlite') as Error).message).toMatch(
      /^input\/output error on d\/study\.sqlite/,
    );
    const plain = new Error('x');
    expect(sqliteFault(plain, 'd/study.sqlite')).toBe(plain);
  });

  it('describeFault(errno errors): ENOSPC, EACCES, EMFILE with their path; exit 1', () => {
    const errno = (code: string, syscall: string, p?: string): Error =>
      Object.assign(new Error(`${code}: x`), { code, syscall, path: p });
    expect(describeFault(errno('ENOSPC', 'write', 'out/a.npy'))).toMatchObject({
      exitCode: 1,
      message: 'no space left on device writing out/a.npy: free space and rerun; finished work is kept',
    });
    expect(describeFault(errno('EDQUOT', 'write', 'out/a.npy')).message).toMatch(
      /^disk quota exceeded writing out\/a\.npy: free space and rerun/,
    );
    expect(describeFault(errno('EACCES', 'open', '/root/x.npy')).message).toBe(
      '/root/x.npy: permission denied opening it (check its permissions, or choose another path)',
    );
    expect(describeFault(errno('EMFILE', 'open', 'shards/7.npy')).message).toMatch(
      /^too many open files .* shards\/7\.npy: raise the limit \(ulimit -n\)/,
    );
    expect(describeFault(errno('ENOTDIR', 'open', 'a.npy/b')).message).toBe(
      'a.npy/b: a part of the path is a file, not a directory (check the path)',
    );
  });

  it('describeFault(RangeError allocation, JSON SyntaxError, unknown Error): one line each, exit 1', () => {
    expect(describeFault(new RangeError('Array buffer allocation failed')).message).toMatch(
      /^allocation too large \(Array buffer allocation failed\)/,
    );
    expect(describeFault(new RangeError('Invalid typed array length: 1e12')).message).toMatch(/^allocation too large/);
    expect(describeFault(new SyntaxError('Unexpected end of JSON input')).message).toMatch(/^malformed JSON/);
    const bug = describeFault(new TypeError('x is undefined'));
    expect(bug).toMatchObject({ exitCode: 1, bug: true, message: 'internal error: x is undefined' });
    expect(bug.hint).toMatch(/HUSAI_DEBUG=1/);
  });
});
