/**
 * Typed errors. Every husai error names the bad value: which file, tensor or field, what was found
 * and what was expected. Only cli/ turns them into exit codes (DESIGN.md, "Errors are typed").
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
