/**
 * A language-model folder in the transformers.js / Hugging Face layout:
 *
 *   config.json              GPT2Config: n_layer, n_head, n_embd, n_positions, vocab_size
 *                            (num_hidden_layers / num_attention_heads / hidden_size /
 *                            max_position_embeddings accepted for GPT-2-family configs)
 *   onnx/model.onnx          the decoder; also accepted, first found wins: onnx/decoder_model.onnx,
 *                            onnx/model_quantized.onnx, onnx/decoder_model_quantized.onnx,
 *                            model.onnx, decoder_model.onnx at the top level
 *   tokenizer.json           (or vocab.json) — must be GPT-2's byte-level BPE: husai tokenises with
 *                            gpt-tokenizer's `gpt2` encoding and checks the folder's vocabulary is
 *                            that one ("Ġthe" = 262, "<|endoftext|>" = 50256, 50257 tokens)
 *   husai_tokenizer.json     (test fixtures only) `{type: "gpt2-mod", modulus}`: GPT-2 BPE with the
 *                            id folded into a small vocabulary, id mod modulus
 *
 * `modelDir` may also name an .onnx file directly; config.json is then looked up beside it and one
 * folder up. Every missing or wrong file is a DataError naming it and what was expected.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../../core/errors.js';

const MODEL_CANDIDATES = [
  'onnx/model.onnx',
  'onnx/decoder_model.onnx',
  'onnx/model_quantized.onnx',
  'onnx/decoder_model_quantized.onnx',
  'model.onnx',
  'decoder_model.onnx',
] as const;

/** GPT-2 BPE vocabulary size and the ids husai checks it by. */
const GPT2_VOCAB = 50257;
export const GPT2_EOT = 50256;

export interface LmConfig {
  modelType: string;
  nLayer: number;
  nHead: number;
  nEmbd: number;
  nPositions: number;
  vocabSize: number;
}

export type TokenizerSpec = { kind: 'gpt2'; file: string } | { kind: 'gpt2-mod'; modulus: number; file: string };

export interface ModelFolder {
  /** The folder (absolute). */
  dir: string;
  config: LmConfig;
  /** Absolute path of the .onnx file, and the same relative to dir (recorded in meta.json). */
  modelPath: string;
  modelRel: string;
  tokenizer: TokenizerSpec;
}

const LAYOUT_HINT =
  'A GPT-2 folder in the transformers.js layout (e.g. a download of Xenova/gpt2) holds config.json, tokenizer.json ' +
  'and onnx/model.onnx.';

function readJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new DataError(file, 'file', 'missing or unreadable', 'a JSON file', LAYOUT_HINT);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DataError(file, 'JSON', `text that does not parse (${(err as Error).message})`, 'valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new DataError(file, 'JSON', Array.isArray(value) ? 'an array' : typeof value, 'an object');
  }
  return value as Record<string, unknown>;
}

function intField(file: string, cfg: Record<string, unknown>, names: readonly string[]): number {
  for (const n of names) {
    const v = cfg[n];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
      throw new DataError(file, n, JSON.stringify(v), 'a positive integer');
    return v;
  }
  throw new DataError(
    file,
    names[0],
    'missing',
    `a positive integer (${names.join(' or ')})`,
    'husai reads the GPT-2 config fields n_layer, n_head, n_embd, n_positions, vocab_size.',
  );
}

/** Reads and checks config.json. */
export function readLmConfig(file: string): LmConfig {
  const cfg = readJson(file);
  const config: LmConfig = {
    modelType: typeof cfg.model_type === 'string' ? cfg.model_type : 'unknown',
    nLayer: intField(file, cfg, ['n_layer', 'num_hidden_layers', 'num_layers']),
    nHead: intField(file, cfg, ['n_head', 'num_attention_heads', 'num_heads']),
    nEmbd: intField(file, cfg, ['n_embd', 'hidden_size']),
    nPositions: intField(file, cfg, ['n_positions', 'max_position_embeddings']),
    vocabSize: intField(file, cfg, ['vocab_size']),
  };
  if (config.nEmbd % config.nHead !== 0) {
    throw new DataError(file, 'n_embd', `${config.nEmbd} (n_head ${config.nHead})`, 'a multiple of n_head');
  }
  return config;
}

/** Checks that a tokenizer.json / vocab.json holds GPT-2's BPE vocabulary. */
function checkGpt2Vocab(file: string): void {
  const json = readJson(file);
  const model = json.model as Record<string, unknown> | undefined;
  const vocab = (path.basename(file) === 'tokenizer.json' ? model?.vocab : json) as Record<string, unknown> | undefined;
  if (path.basename(file) === 'tokenizer.json' && model?.type !== 'BPE') {
    throw new DataError(
      file,
      'model.type',
      JSON.stringify(model?.type),
      '"BPE" (GPT-2 byte-level BPE)',
      'husai tokenises with GPT-2 BPE only.',
    );
  }
  if (typeof vocab !== 'object' || vocab === null)
    throw new DataError(file, 'vocab', 'missing', 'the GPT-2 BPE vocabulary (token → id)');
  const added = Array.isArray(json.added_tokens) ? (json.added_tokens as Array<{ id?: number; content?: string }>) : [];
  const eot = vocab['<|endoftext|>'] ?? added.find((t) => t.content === '<|endoftext|>')?.id;
  const size =
    Object.keys(vocab).length + added.filter((t) => typeof t.content === 'string' && !(t.content in vocab)).length;
  if (vocab['Ġthe'] !== 262 || eot !== GPT2_EOT || size !== GPT2_VOCAB) {
    throw new DataError(
      file,
      'vocab',
      `${size} tokens, "Ġthe" → ${JSON.stringify(vocab['Ġthe'])}, "<|endoftext|>" → ${JSON.stringify(eot)}`,
      `GPT-2's BPE vocabulary (${GPT2_VOCAB} tokens, "Ġthe" → 262, "<|endoftext|>" → ${GPT2_EOT})`,
      "husai tokenises with gpt-tokenizer's GPT-2 encoding; models with another tokenizer are not supported yet.",
    );
  }
}

function readTokenizerSpec(dir: string, config: LmConfig, configFile: string): TokenizerSpec {
  const modFile = path.join(dir, 'husai_tokenizer.json');
  if (fs.existsSync(modFile)) {
    const spec = readJson(modFile);
    if (spec.type !== 'gpt2-mod') throw new DataError(modFile, 'type', JSON.stringify(spec.type), '"gpt2-mod"');
    const m = spec.modulus;
    if (typeof m !== 'number' || !Number.isSafeInteger(m) || m <= 0 || m > config.vocabSize) {
      throw new DataError(modFile, 'modulus', JSON.stringify(m), `an integer in [1, vocab_size = ${config.vocabSize}]`);
    }
    return { kind: 'gpt2-mod', modulus: m, file: modFile };
  }
  const candidates = ['tokenizer.json', 'vocab.json'].map((f) => path.join(dir, f));
  const file = candidates.find((f) => fs.existsSync(f));
  if (file === undefined) {
    throw new DataError(
      path.join(dir, 'tokenizer.json'),
      'file',
      'missing (no tokenizer.json or vocab.json either)',
      'the GPT-2 tokenizer files of the transformers.js layout',
      LAYOUT_HINT,
    );
  }
  checkGpt2Vocab(file);
  if (config.vocabSize < GPT2_VOCAB) {
    throw new DataError(configFile, 'vocab_size', String(config.vocabSize), `at least ${GPT2_VOCAB} (GPT-2 BPE ids)`);
  }
  return { kind: 'gpt2', file };
}

/** Opens a model folder (or an .onnx file inside one) and checks its files. */
export function openModelFolder(modelDir: string): ModelFolder {
  const given = path.resolve(modelDir);
  if (!fs.existsSync(given))
    throw new DataError(
      given,
      'path',
      'nothing there',
      'a model folder (config.json, tokenizer.json, onnx/model.onnx)',
      LAYOUT_HINT,
    );
  let dir: string;
  let modelPath: string;
  if (fs.statSync(given).isFile()) {
    modelPath = given;
    const up = path.dirname(given);
    dir = fs.existsSync(path.join(up, 'config.json')) ? up : path.dirname(up);
  } else {
    dir = given;
    const found = MODEL_CANDIDATES.map((c) => path.join(dir, c)).find((p) => fs.existsSync(p));
    if (found === undefined) {
      throw new DataError(
        path.join(dir, 'onnx/model.onnx'),
        'file',
        `missing (none of ${MODEL_CANDIDATES.join(', ')})`,
        'an ONNX decoder model',
        LAYOUT_HINT,
      );
    }
    modelPath = found;
  }
  const configFile = path.join(dir, 'config.json');
  if (!fs.existsSync(configFile))
    throw new DataError(
      configFile,
      'file',
      'missing',
      'config.json with n_layer, n_head, n_embd, n_positions, vocab_size',
      LAYOUT_HINT,
    );
  const config = readLmConfig(configFile);
  const tokenizer = readTokenizerSpec(dir, config, configFile);
  return { dir, config, modelPath, modelRel: path.relative(dir, modelPath), tokenizer };
}
