/**
 * The error boundary's dictionary (issue 12, "every fault a message"): turns anything a command
 * throws into one line for the user and an exit code — 2 for usage errors (a bad flag value, a
 * ConfigError), 1 for every other fault: a HusaiError (bad data, a spec error, a diverged run), a
 * Node errno error (missing path, wrong kind of file, no permission, no space left), better-sqlite3's
 * SqliteError (disk full, damaged database), an allocation too large, malformed JSON/YAML, and
 * finally a bug (one line too, with how to see the stack). Layers that know a path add it where
 * they throw (formats/io.ts fsError, openRegular); this file only names what is left.
 * `HUSAI_DEBUG=1` prints the stack as well (program.ts).
 */
import { ConfigError, FileError, HusaiError, errnoCode, fsError } from '../core/errors.js';

interface Fault {
  /** The message, one line for system faults (a HusaiError's may span lines: a spec's issues). */
  message: string;
  hint?: string;
  exitCode: 1 | 2;
  /** False for faults the user caused and can fix; true when it looks like a bug in husai. */
  bug: boolean;
}

const SQLITE: Record<string, (db: string) => string> = {
  SQLITE_FULL: (db) => `no space left on device writing ${db}: free space and rerun; finished work is kept`,
  SQLITE_IOERR: (db) => `input/output error on ${db}: the disk may be full or failing; free space and rerun`,
  SQLITE_CORRUPT: (db) => `${db} is damaged (database disk image is malformed): move it aside and rerun to rebuild it`,
  SQLITE_NOTADB: (db) => `${db} is not an SQLite database: move it aside and rerun to rebuild it`,
  SQLITE_READONLY: (db) => `${db} is read-only: check its permissions, or choose another --out`,
  SQLITE_CANTOPEN: (db) => `cannot open ${db}: check that its folder exists and is writable`,
  SQLITE_BUSY: (db) => `${db} is locked by another process: wait for it to finish and rerun`,
};

/** better-sqlite3's SqliteError (or any error with an SQLITE_* code) as a FileError naming `db`, else `err`. */
export function sqliteFault(err: unknown, db: string): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (!(err instanceof Error) || typeof code !== 'string' || !code.startsWith('SQLITE_')) return err;
  // Extended codes (SQLITE_IOERR_WRITE, SQLITE_CORRUPT_INDEX, …) share their primary code's message.
  const key = Object.keys(SQLITE).find((k) => code === k || code.startsWith(`${k}_`));
  const msg = key === undefined ? undefined : SQLITE[key](db);
  return msg === undefined ? new FileError(db, code, `${db}: ${err.message} (${code})`) : new FileError(db, code, msg);
}

/** What to tell the user about `err`, and the exit code. */
export function describeFault(err: unknown): Fault {
  if (err instanceof ConfigError) return { message: err.message, hint: err.hint, exitCode: 2, bug: false };
  if (err instanceof HusaiError) return { message: err.message, hint: err.hint, exitCode: 1, bug: false };
  if (!(err instanceof Error)) return { message: `internal error: ${String(err)}`, exitCode: 1, bug: true };
  const code = errnoCode(err);
  if (code !== null) {
    const e = err as NodeJS.ErrnoException;
    const sys = e.syscall ?? '';
    const doing =
      code === 'ENOSPC' ||
      code === 'EDQUOT' ||
      /^(write|mkdir|rename|copyfile|link|symlink|unlink|rmdir|rm|ftruncate|fsync|utime)/.test(sys)
        ? 'writing'
        : sys === 'open'
          ? 'opening'
          : 'reading';
    const mapped = fsError(err, e.path ?? 'a file', doing);
    if (mapped instanceof HusaiError) return { message: mapped.message, exitCode: 1, bug: false };
    return { message: `${e.path ? `${e.path}: ` : ''}${err.message}`, exitCode: 1, bug: false };
  }
  const sql = sqliteFault(err, 'the study database (study.sqlite)');
  if (sql instanceof HusaiError) return { message: sql.message, exitCode: 1, bug: false };
  if (
    err instanceof RangeError &&
    /allocation failed|Invalid typed array length|Invalid array length|Array buffer/i.test(err.message)
  ) {
    return {
      message:
        `allocation too large (${err.message}): the data or model does not fit in memory; use smaller inputs ` +
        `or more memory`,
      exitCode: 1,
      bug: false,
    };
  }
  if (err instanceof RangeError && /Maximum call stack/.test(err.message)) {
    return {
      message: 'input nested too deeply (Maximum call stack size exceeded): check the JSON/YAML files given',
      exitCode: 1,
      bug: true,
    };
  }
  if (err instanceof SyntaxError && /JSON/.test(err.message)) {
    return { message: `malformed JSON (${err.message}): fix or regenerate the file`, exitCode: 1, bug: false };
  }
  if (/^YAML/.test(err.name))
    return { message: `malformed YAML (${err.message.split('\n')[0]})`, exitCode: 1, bug: false };
  return {
    message: `internal error: ${err.message.split('\n')[0]}`,
    hint: 'this is a bug in husai: rerun with HUSAI_DEBUG=1 for the stack trace and report it',
    exitCode: 1,
    bug: true,
  };
}
