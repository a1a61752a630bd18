/**
 * Child process of the kill -9 test (resume.test.ts): runs a study with hooks that report each pass
 * start and each commit on stdout, and sleep 1 ms per training step so that a pass lasts long enough
 * for the parent to kill the process in the middle of it.
 * Usage: vite-node test/study/kill-child.ts SPEC OUT
 */
import { runStudy } from '../../src/study/study.js';

const [spec, out] = process.argv.slice(2);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
await runStudy(spec, {
  out,
  report: null,
  hooks: {
    progressIntervalMs: 0,
    onProgress: (p) => {
      if (p.phase === 'train' && p.active.length > 0) Atomics.wait(sleeper, 0, 0, 1);
    },
    onRunsStart: (ids) => process.stdout.write(`start ${ids.join(',')}\n`),
    onRunCommitted: (id) => process.stdout.write(`committed ${id}\n`),
  },
});
process.stdout.write('finished\n');
