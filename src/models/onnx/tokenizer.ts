/**
 * GPT-2 byte-level BPE through gpt-tokenizer's `gpt2` encoding (the r50k ranks GPT-2 was trained
 * with; ids 0…50256, `<|endoftext|>` = 50256). Text is encoded with special tokens treated as plain
 * text, so a document containing "<|endoftext|>" cannot inject a control token. `pieces` gives the
 * text of each token for feature cards: a character split across byte tokens shows on the token
 * that completes it. The `gpt2-mod` variant (test fixtures with a small vocabulary) keeps GPT-2 ids
 * everywhere except at the model input, which sees id mod modulus.
 */
import type { TokenizerSpec } from './folder.js';
import { GPT2_EOT } from './folder.js';

interface LmTokenizer {
  /** 'gpt2' or 'gpt2-mod-<modulus>' (recorded in meta.json). */
  name: string;
  /** The end-of-text id, prepended to each context window as BOS. */
  eot: number;
  encode(text: string): number[];
  /** The text of each token of `ids` (one string per id; '' for a byte that only starts a character). */
  pieces(ids: readonly number[]): string[];
  /** The id the model's embedding table is indexed with. */
  toModel(id: number): number;
}

/** Loads the tokenizer a model folder asks for (gpt-tokenizer's ranks load on first use, ~0.1 s). */
export async function loadTokenizer(spec: TokenizerSpec): Promise<LmTokenizer> {
  const gpt2 = await import('gpt-tokenizer/encoding/gpt2');
  const plain = { disallowedSpecial: new Set<string>() };
  const decode = (ids: readonly number[]): string => gpt2.decode(ids);
  const modulus = spec.kind === 'gpt2-mod' ? spec.modulus : 0;
  return {
    name: spec.kind === 'gpt2' ? 'gpt2' : `gpt2-mod-${modulus}`,
    eot: GPT2_EOT,
    encode: (text) => gpt2.encode(text, plain),
    pieces(ids) {
      // piece_i = decode(ids[s..i]) minus decode(ids[s..i-1]), with s four tokens back: a UTF-8
      // character spans at most 4 bytes, and gpt-tokenizer drops an incomplete trailing character.
      const out: string[] = [];
      for (let i = 0; i < ids.length; i++) {
        const s = Math.max(0, i - 4);
        const before = decode(ids.slice(s, i));
        const upto = decode(ids.slice(s, i + 1));
        out.push(upto.startsWith(before) ? upto.slice(before.length) : decode([ids[i]]));
      }
      return out;
    },
    toModel: modulus > 0 ? (id) => id % modulus : (id) => id,
  };
}
