/**
 * Writes the tiny GPT-2 fixture, test/fixtures/tiny-gpt2/, in the transformers.js folder layout:
 *
 *   config.json            HF GPT2Config fields (n_layer 2, n_head 2, n_embd 16, n_positions 64, vocab 300)
 *   onnx/model.onnx        the graph of scripts/tiny-gpt2.ts (seed 7)
 *   husai_tokenizer.json   tokeniser: GPT-2 BPE (gpt-tokenizer), model id = GPT-2 id mod 300
 *   weights.safetensors    the same weights under HF state-dict names, for reference.py
 *
 * then the numpy reference is run separately and writes expected.json:
 *
 *   npx vite-node scripts/make-tiny-gpt2.ts && python3 test/fixtures/tiny-gpt2/reference.py
 *
 * The vocabulary is 300 because the real one (50257 × 16 floats) would make the fixture 3 MB; the
 * `gpt2-mod` tokeniser keeps real GPT-2 BPE on real text and folds the ids into the small table.
 * Output is byte-identical from run to run.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSafetensors } from '../src/formats/safetensors.js';
import { buildTinyGpt2 } from './tiny-gpt2.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'test/fixtures/tiny-gpt2');
fs.mkdirSync(path.join(out, 'onnx'), { recursive: true });

const tiny = buildTinyGpt2({ seed: 7 });
const cfg = tiny.config;
const config = {
  architectures: ['GPT2LMHeadModel'],
  model_type: 'gpt2',
  activation_function: 'gelu_new',
  n_layer: cfg.n_layer,
  n_head: cfg.n_head,
  n_embd: cfg.n_embd,
  n_positions: cfg.n_positions,
  n_ctx: cfg.n_positions,
  vocab_size: cfg.vocab_size,
  layer_norm_epsilon: cfg.layer_norm_epsilon,
  bos_token_id: 50256,
  eos_token_id: 50256,
  husai_note: 'Random weights (seed 7) from scripts/make-tiny-gpt2.ts: a test fixture, not a language model.',
};
fs.writeFileSync(path.join(out, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
fs.writeFileSync(path.join(out, 'onnx/model.onnx'), tiny.bytes);
const tokenizer = {
  type: 'gpt2-mod',
  modulus: cfg.vocab_size,
  note: 'GPT-2 BPE (gpt-tokenizer r50k/gpt2 encoding); the model sees GPT-2 id mod modulus. Test fixtures only.',
};
fs.writeFileSync(path.join(out, 'husai_tokenizer.json'), `${JSON.stringify(tokenizer, null, 2)}\n`);
writeSafetensors(path.join(out, 'weights.safetensors'), tiny.weights, {
  source: 'scripts/make-tiny-gpt2.ts',
  seed: '7',
});
console.log(`wrote ${out}: model.onnx ${tiny.bytes.length} bytes, ${tiny.model.graph?.node?.length} nodes`);
