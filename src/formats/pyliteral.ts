/**
 * A parser for the Python literal subset that .npy headers are written in (docs/FORMATS.md,
 * "Activations"; numpy `lib/format.py` writes the header with `repr` of a dict and reads it back
 * with `ast.literal_eval`). Handles dicts, tuples, lists, single- or double-quoted strings (with
 * escapes and an optional u/b prefix), integers (with Python 2's `L` suffix), floats, True, False
 * and None, with any whitespace and trailing commas. Anything else is a `PyLiteralError` carrying
 * the character position, which the .npy reader turns into a DataError naming the file.
 */

type PyValue = string | number | boolean | null | PyValue[] | PyDict;
/** A Python dict; keys kept as they appeared (strings or numbers), in order. */
type PyDict = Map<string | number, PyValue>;

export class PyLiteralError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at character ${position}`);
  }
}

/** Parses one Python literal that makes up the whole of `text` (surrounding whitespace allowed). */
export function parsePyLiteral(text: string): PyValue {
  const p = new Parser(text);
  const v = p.value();
  p.skipWs();
  if (p.pos !== text.length)
    throw new PyLiteralError(`unexpected ${JSON.stringify(text[p.pos])} after the value`, p.pos);
  return v;
}

class Parser {
  pos = 0;
  constructor(private readonly s: string) {}

  skipWs(): void {
    while (this.pos < this.s.length && /\s/.test(this.s[this.pos])) this.pos++;
  }

  value(): PyValue {
    this.skipWs();
    const c = this.s[this.pos];
    if (c === undefined) throw new PyLiteralError('unexpected end of text', this.pos);
    if (c === '{') return this.dict();
    if (c === '(') return this.sequence(')', true);
    if (c === '[') return this.sequence(']', false);
    if (c === "'" || c === '"') return this.string();
    if (
      (c === 'u' || c === 'b' || c === 'U' || c === 'B') &&
      (this.s[this.pos + 1] === "'" || this.s[this.pos + 1] === '"')
    ) {
      this.pos++;
      return this.string();
    }
    if (/[-+0-9.]/.test(c)) return this.number();
    for (const [word, v] of [
      ['True', true],
      ['False', false],
      ['None', null],
    ] as const) {
      if (this.s.startsWith(word, this.pos) && !/\w/.test(this.s[this.pos + word.length] ?? '')) {
        this.pos += word.length;
        return v;
      }
    }
    throw new PyLiteralError(`unexpected ${JSON.stringify(c)}`, this.pos);
  }

  private expect(ch: string): void {
    this.skipWs();
    if (this.s[this.pos] !== ch) throw new PyLiteralError(`expected ${JSON.stringify(ch)}`, this.pos);
    this.pos++;
  }

  /** Consumes `close` if it is next (after whitespace). */
  private tryClose(close: string): boolean {
    this.skipWs();
    if (this.s[this.pos] === close) {
      this.pos++;
      return true;
    }
    return false;
  }

  private dict(): PyDict {
    this.pos++; // '{'
    const out: PyDict = new Map();
    if (this.tryClose('}')) return out;
    for (;;) {
      const keyAt = this.pos;
      const key = this.value();
      if (typeof key !== 'string' && typeof key !== 'number')
        throw new PyLiteralError('dict keys must be strings or numbers', keyAt);
      if (out.has(key)) throw new PyLiteralError(`duplicate dict key ${JSON.stringify(key)}`, keyAt);
      this.expect(':');
      out.set(key, this.value());
      if (this.tryClose('}')) return out;
      this.expect(',');
      if (this.tryClose('}')) return out;
    }
  }

  /** A tuple or list. `(x)` without a comma is just x, as in Python. */
  private sequence(close: string, isTuple: boolean): PyValue {
    this.pos++;
    const out: PyValue[] = [];
    if (this.tryClose(close)) return out;
    for (;;) {
      out.push(this.value());
      if (this.tryClose(close)) return isTuple && out.length === 1 ? out[0] : out;
      this.expect(',');
      if (this.tryClose(close)) return out;
    }
  }

  private string(): string {
    const quote = this.s[this.pos];
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.s[this.pos];
      if (c === undefined || c === '\n') throw new PyLiteralError('unterminated string', start);
      this.pos++;
      if (c === quote) return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.pos++];
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"' };
      if (e !== undefined && Object.hasOwn(simple, e)) out += simple[e];
      else if (e === 'x' || e === 'u') {
        const len = e === 'x' ? 2 : 4;
        const hex = this.s.slice(this.pos, this.pos + len);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== len) throw new PyLiteralError(`bad \\${e} escape`, this.pos);
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += len;
      } else throw new PyLiteralError(`unsupported escape \\${e ?? ''}`, this.pos - 1);
    }
  }

  private number(): number {
    const m = /^[-+]?(\d+\.?\d*(e[-+]?\d+)?|\.\d+(e[-+]?\d+)?)[lL]?/i.exec(this.s.slice(this.pos));
    if (m === null) throw new PyLiteralError('malformed number', this.pos);
    this.pos += m[0].length;
    return Number(m[0].replace(/[lL]$/, ''));
  }
}
