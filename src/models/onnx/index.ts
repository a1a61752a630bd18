/**
 * Activations of GPT-2-family ONNX language models (issue 7, item 2): a model folder in the
 * transformers.js layout, run with onnxruntime-node on CPU, any internal tensor exposed as an output
 * by graph surgery, real text tokenised with GPT-2 BPE. One file per idea:
 *
 *   schema.ts / proto.ts   ONNX protobuf schema, decode/encode (protobufjs)
 *   wire.ts / surgery.ts   wire-level graph surgery: exposeTensors(model, names, {prune})
 *   graph.ts / hooks.ts    data-flow queries; friendly hooks (resid_post.L, mlp_out.L, …) → tensors
 *   folder.ts              config.json, onnx/model.onnx, tokenizer files, with DataErrors
 *   corpus.ts / tokenizer.ts   sotu, moby-dick or the user's text; gpt-tokenizer's gpt2 encoding
 *   runner.ts              onnxruntime session, input feeds (empty past_key_values)
 *   source.ts              openOnnxSource → ExtractionSource (models/extraction.ts)
 *
 * GPT-2 small, layer-6 residual stream, with one command. Download the transformers.js export of
 * GPT-2 (e.g. the Hugging Face repo Xenova/gpt2: config.json, tokenizer.json, onnx/model.onnx),
 * then:
 *
 *   husai extract --source onnx:/path/to/gpt2 --layer resid_post.6 --text sotu --limit 100000 --out acts/gpt2-l6
 *
 * resid_post.6 is `/transformer/h.6/Add_1_output_0` in that graph (found by node name, or by walking
 * the residual adds when names are absent). The tapped model is pruned to what layer 6 needs, so
 * blocks 7–11 and the logits are never computed. Rows: 100,000 tokens × 768, one per SOTU token
 * (windows of 128 positions with <|endoftext|> first), with doc/position/offset/token columns and a
 * tokens.json sidecar. Other layers: `mlp_out.3`, `resid_pre.0`, `attn_out.L`, `resid_mid.L`, or
 * any tensor name from listOnnxTensors (e.g. `/transformer/h.6/mlp/act/Mul_3_output_0`, the MLP
 * hidden layer after GELU).
 */
export { openOnnxSource, listOnnxTensors, openModel } from './source.js';
export { loadText } from './corpus.js';
