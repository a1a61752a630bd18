/**
 * Typed errors. Every husai error names the bad value: which file, tensor or field, what was found
 * and what was expected. Only cli/ turns them into exit codes (docs/ARCHITECTURE.md, "Errors are typed").
 */

/** Base class: anything husai throws on purpose. `hint` tells the user how to fix it, when we know. */
export class HusaiError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Two arrays or matrices whose shapes do not fit together. */
export class ShapeError extends HusaiError {}

/** A file or tensor whose content is not what it claims or what we need. */
export class DataError extends HusaiError {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly found: string,
    readonly expected: string,
    hint?: string,
  ) {
    super(`${file}: ${field}: found ${found}, expected ${expected}`, hint);
  }
}

/** A configuration value that is invalid on its own or clashes with another field. */
export class ConfigError extends HusaiError {}

/** NaN or Inf appeared in a computation that must stay finite (training loss, gradients, weights). */
export class NumericError extends HusaiError {}

/** Formats a shape as `[a×b]` for messages. */
export function fmtShape(...dims: number[]): string {
  return `[${dims.join('×')}]`;
}

/**
 * A file the user named (or husai writes) that the operating system refused: missing, the wrong kind
 * of file, no permission, no space left. The message is one line that names the file and says what
 * to do; `code` is the errno code (ENOENT, ENOSPC, …) or FIFO / DIRECTORY / DEVICE for a non-regular
 * file refused before reading.
 */
export class FileError extends HusaiError {
  constructor(
    readonly file: string,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What a path is, in words, when it is not a regular file (fs.Stats of it). */
export function fileKind(st: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** The errno code of a Node system error (ENOENT, …), or null. */
export function errnoCode(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : null;
}

/**
 * `err` as a FileError naming `file` when it is a Node errno error husai knows how to explain
 * (ENOENT, EISDIR, ENOTDIR, EACCES, EPERM, ENOSPC, EDQUOT, EMFILE, ENFILE, EROFS, EIO, ENAMETOOLONG,
 * ELOOP); anything else is returned unchanged. `doing` is "reading" or "writing" (or any verb phrase).
 * Layers that know the path wrap their fs calls with it: `catch (e) { throw fsError(e, file, 'reading') }`.
 */
export function fsError(err: unknown, file: string, doing: string): unknown {
  if (err instanceof HusaiError) return err;
  const code = errnoCode(err);
  if (code === null) return err;
  const msg = FS_MESSAGES[code]?.(file, doing);
  return msg === undefined ? err : new FileError(file, code, msg);
}

const FS_MESSAGES: Record<string, (file: string, doing: string) => string> = {
  ENOENT: (f, d) =>
    d === 'writing'
      ? `cannot write ${f}: its folder does not exist (create it or choose another path)`
      : `${f}: no such file or directory (check the path)`,
  EISDIR: (f) => `${f} is a directory, expected a file (name the file inside it)`,
  ENOTDIR: (f) => `${f}: a part of the path is a file, not a directory (check the path)`,
  EACCES: (f, d) => `${f}: permission denied ${d} it (check its permissions, or choose another path)`,
  EPERM: (f, d) => `${f}: operation not permitted ${d} it (check its permissions, or choose another path)`,
  ENOSPC: (f, d) => `no space left on device ${d} ${f}: free space and rerun; finished work is kept`,
  EDQUOT: (f, d) => `disk quota exceeded ${d} ${f}: free space and rerun; finished work is kept`,
  EMFILE: (f, d) => `too many open files ${d} ${f}: raise the limit (ulimit -n) and rerun`,
  ENFILE: (f, d) => `too many open files on this system ${d} ${f}: close other programs and rerun`,
  EROFS: (f, d) => `${f}: read-only file system ${d} it (choose a writable path)`,
  EIO: (f, d) => `input/output error ${d} ${f}: the disk or file system is failing (copy the file elsewhere and retry)`,
  ENAMETOOLONG: (f) => `${f}: file name too long (choose a shorter path)`,
  ELOOP: (f) => `${f}: too many symbolic links (a link loop?)`,
  ENXIO: (f) => `${f}: no such device or address (a FIFO without a writer, or a socket?): expected a regular file`,
};
