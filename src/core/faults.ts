/**
 * Fault injection for the crash-safety tests (issue 12, "a fault-injection test suite that stays").
 * `HUSAI_FAULT=kill@N` kills this process (SIGKILL, no clean-up, like `kill -9`) at the Nth fault
 * point; `HUSAI_FAULT=enospc@N` throws an Error with code 'ENOSPC' there instead, as a full disk
 * would. Fault points are every durable step of a study's store: each atomic file write (before
 * its rename, formats/io.ts), each directory rename and each SQLite commit (study/). Without
 * HUSAI_FAULT, faultPoint costs one comparison. `HUSAI_FAULT=count` prints one line per point on
 * stderr (`husai-fault N kind what`), so a test can learn how many points a study has.
 */

type Fault = { kind: 'kill' | 'enospc'; at: number } | { kind: 'count' } | null;

let fault: Fault | undefined;
let counter = 0;

function parse(raw: string | undefined): Fault {
  if (raw === undefined || raw === '') return null;
  if (raw === 'count') return { kind: 'count' };
  const m = /^(kill|enospc)@(\d+)$/.exec(raw);
  if (!m) throw new Error(`HUSAI_FAULT=${raw}: expected kill@N, enospc@N or count`);
  return { kind: m[1] as 'kill' | 'enospc', at: Number(m[2]) };
}

/** Marks one durable step (`kind`: write, rename, commit; `what`: the file or table). */
export function faultPoint(kind: 'write' | 'rename' | 'commit', what: string): void {
  if (fault === undefined) fault = parse(process.env.HUSAI_FAULT);
  if (fault === null) return;
  counter++;
  if (fault.kind === 'count') {
    process.stderr.write(`husai-fault ${counter} ${kind} ${what}\n`);
    return;
  }
  if (counter !== fault.at) return;
  if (fault.kind === 'kill') {
    process.kill(process.pid, 'SIGKILL');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // the signal lands before this returns
  }
  const err = new Error(
    `ENOSPC: no space left on device (injected by HUSAI_FAULT at ${kind} ${what})`,
  ) as NodeJS.ErrnoException;
  err.code = 'ENOSPC';
  err.path = what;
  throw err;
}

/** Re-reads HUSAI_FAULT and restarts the count (tests that set it in-process). */
export function resetFaults(): void {
  fault = undefined;
  counter = 0;
}
