/**
 * Quarantine (issue 12, "nothing lost"): state that the store self-check (selfcheck.ts) cannot
 * trust — a run folder with a damaged cfg.json or weights whose hash no longer matches, a damaged
 * study.sqlite — is moved to DIR/quarantine/<name>-<time>/, never deleted, and the run retrained.
 * The user may inspect or delete the quarantine folder; husai never reads it again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { faultPoint } from '../core/faults.js';

const QUARANTINE_DIR = 'quarantine';

/**
 * Moves the entries `names` (relative to `studyDir`; missing ones skipped) into one new folder
 * DIR/quarantine/<label>-<time>/ — a single folder (a run folder) becomes that folder. Returns it
 * relative to DIR.
 */
export function quarantine(studyDir: string, names: readonly string[], label: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  let rel = path.join(QUARANTINE_DIR, `${label}-${stamp}`);
  for (let i = 1; fs.existsSync(path.join(studyDir, rel)); i++)
    rel = path.join(QUARANTINE_DIR, `${label}-${stamp}-${i}`);
  const target = path.join(studyDir, rel);
  const present = names.filter((n) => fs.existsSync(path.join(studyDir, n)));
  if (present.length === 1 && fs.statSync(path.join(studyDir, present[0])).isDirectory()) {
    // One folder (a run): it becomes quarantine/<label>-<time> itself.
    fs.mkdirSync(path.dirname(target), { recursive: true });
    faultPoint('rename', target);
    fs.renameSync(path.join(studyDir, present[0]), target);
    return rel;
  }
  fs.mkdirSync(target, { recursive: true });
  for (const name of names) {
    const from = path.join(studyDir, name);
    if (!fs.existsSync(from)) continue;
    faultPoint('rename', from);
    fs.renameSync(from, path.join(target, path.basename(name)));
  }
  return rel;
}
