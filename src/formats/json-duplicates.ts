/**
 * Object keys as they appear in raw JSON text: the first duplicated key, and the top-level keys in
 * file order. `JSON.parse` keeps the last of two equal keys and says nothing, so a safetensors
 * header naming one tensor twice would load silently with half its entries lost (docs/FORMATS.md,
 * "safetensors", requires rejecting duplicate names); and a JS object lists integer-like keys
 * first, so file order has to come from the text. A minimal tokenizer — strings (with escapes),
 * braces, brackets and commas; everything else is skipped — run only after JSON.parse has accepted
 * the text, so it need not diagnose bad JSON.
 */

interface DuplicateKey {
  /** The repeated key, decoded. */
  key: string;
  /** Keys of the enclosing objects from the top, e.g. [] for a top-level key, ['__metadata__'] inside it. */
  path: string[];
}

interface JsonKeys {
  /** The first duplicated key in any object, or null when all keys are unique. */
  duplicate: DuplicateKey | null;
  /** Keys of the top-level object in file order (up to the first duplicate). */
  topLevel: string[];
}

/** The first duplicated key in any object of `text` (valid JSON), or null when all keys are unique. */
export function findDuplicateKey(text: string): DuplicateKey | null {
  return scanJsonKeys(text).duplicate;
}

/** Scans the keys of `text` (valid JSON). */
export function scanJsonKeys(text: string): JsonKeys {
  const topLevel: string[] = [];
  // One frame per open container: objects track the keys seen and the key being parsed.
  const stack: Array<{ obj: boolean; keys: Set<string>; expectKey: boolean; lastKey: string }> = [];
  const path = (): string[] =>
    stack
      .slice(0, -1)
      .filter((f) => f.obj)
      .map((f) => f.lastKey);
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top !== undefined && top.obj && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) {
          top.lastKey = key;
          return { duplicate: { key, path: path() }, topLevel };
        }
        top.keys.add(key);
        if (stack.length === 1) topLevel.push(key);
        top.lastKey = key;
        top.expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      stack.push({ obj: c === '{', keys: new Set(), expectKey: c === '{', lastKey: '' });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top !== undefined && top.obj) top.expectKey = true;
    }
  }
  return { duplicate: null, topLevel };
}

/**
 * The deepest nesting of objects and arrays in `text` (any text: strings with escapes are skipped,
 * the rest is not validated), stopping as soon as it exceeds `limit`. Run BEFORE JSON.parse on a
 * file's text: V8 parses a 100k-deep `[[[…]]]` iteratively but everything that walks the result
 * recursively afterwards (JSON.stringify, a validator) overflows the stack, so a nesting bomb must be
 * refused before it becomes a value.
 */
export function jsonDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: skip to its closing quote
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}
