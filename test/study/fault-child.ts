/**
 * Child process of the store fault tests (faults-store.test.ts), run with vite-node:
 *   fault-child.ts study SPEC OUT     runs the study (no report); HUSAI_FAULT in the environment
 *                                     kills it at a fault point (core/faults.ts); prints "finished"
 *   fault-child.ts lock GO DIR…       prints "ready", waits for the file GO to exist (time T), then
 *                                     tries to take each DIR's lock at T + 40 ms · i, printing "got i"
 *                                     or "refused i <message>", then "done"; holds every lock it got
 *                                     until it is killed
 */
import fs from 'node:fs';
import { acquireLock } from '../../src/study/lock.js';
import { runStudy } from '../../src/study/study.js';

const [mode, ...args] = process.argv.slice(2);
const sleep = (ms: number): void => {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};
if (mode === 'study') {
  await runStudy(args[0], { out: args[1], report: null });
  process.stdout.write('finished\n');
} else if (mode === 'lock') {
  process.stdout.write('ready\n');
  while (!fs.existsSync(args[0])) sleep(1);
  const t0 = Date.now();
  for (const [i, dir] of args.slice(1).entries()) {
    sleep(t0 + 40 * i - Date.now());
    try {
      acquireLock(dir);
      process.stdout.write(`got ${i}\n`);
    } catch (err) {
      process.stdout.write(`refused ${i} ${(err as Error).message}\n`);
    }
  }
  process.stdout.write('done\n');
  for (;;) sleep(1000);
} else {
  throw new Error(`fault-child.ts: unknown mode ${mode}`);
}
