#!/usr/bin/env python3
"""Writes the SAE checkpoint fixtures for test/sae/checkpoint (run from anywhere; python3 + numpy only).

One set of random float32 weights (d_in 8, d_sae 16) is saved in four layouts that husai must read
to the same decoder and encoder atoms (FORMATS.md "SAE directories", SCIENCE.md §1):

  saelens_v6/        cfg.json with nested `metadata`, architecture "jumprelu", + `threshold`
  saelens_pre6/      flat cfg (hook_point, activation_fn_str "relu", no architecture) and a
                     `scaling_factor` [d_sae]; SAELens applies it as (f * s) @ W_dec
                     (sae_lens/sae.py, SAE.decode via apply_finetuning_scaling_factor), so the
                     file stores W_dec / s row-wise and the reader must fold s back into W_dec.
  saelens_pre6_topk/ flat cfg, activation_fn_str "topk", activation_fn_kwargs.k, no architecture
  sparsify/          sparsify SparseCoder.save_to_disk: `encoder.weight` [F, d_in] (= W_enc^T),
                     `encoder.bias`, `W_dec` [F, d_in], `b_dec`; cfg num_latents 0 => d_in * 2
  sparsify_old/      older sparsify: `W_enc` [d_in, F], `b_enc`; cfg without d_in
  sparsify_run/      one subfolder per seed and hookpoint: seed0/layers.0, seed0/layers.1,
                     seed1/layers.0 (layers.1 holds different weights, to tell them apart)

Decoder row 5 and encoder column 11 are zero (a dead latent), to check that zero atoms stay zero.
expected_atoms.json holds the unit atoms computed here in float64 — the independent reference.

safetensors is written by hand (the `safetensors` package is not installed): u64 LE header length,
JSON header (padded with spaces to a multiple of 8, as the Rust implementation does), raw LE bytes.
"""
import json
import os
import shutil
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
D_IN, D_SAE, K = 8, 16, 4


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(tensors[name], dtype='<f4')
        raw = arr.tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(arr.shape), 'data_offsets': [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata is not None:
        header['__metadata__'] = metadata
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def write_dir(path, weights_name, tensors, cfg):
    os.makedirs(path, exist_ok=True)
    write_safetensors(os.path.join(path, weights_name), tensors, {'format': 'pt'})
    with open(os.path.join(path, 'cfg.json'), 'w') as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write('\n')


def make_weights(seed):
    rng = np.random.default_rng(seed)
    w_enc = (rng.standard_normal((D_IN, D_SAE)) * 0.3).astype(np.float32)
    b_enc = (rng.standard_normal(D_SAE) * 0.1).astype(np.float32)
    w_dec = (rng.standard_normal((D_SAE, D_IN)) * rng.uniform(0.2, 2.0, (D_SAE, 1))).astype(np.float32)
    b_dec = (rng.standard_normal(D_IN) * 0.1).astype(np.float32)
    threshold = rng.uniform(0.01, 0.1, D_SAE).astype(np.float32)
    w_dec[5, :] = 0
    w_enc[:, 11] = 0
    return {'W_enc': w_enc, 'b_enc': b_enc, 'W_dec': w_dec, 'b_dec': b_dec, 'threshold': threshold}


def unit_rows(m):
    m = m.astype(np.float64)
    n = np.linalg.norm(m, axis=1, keepdims=True)
    return np.where(n > 0, m / np.where(n > 0, n, 1), 0), int((n[:, 0] == 0).sum())


def sparsify_cfg(**extra):
    cfg = {'activation': 'topk', 'expansion_factor': 2, 'normalize_decoder': True, 'num_latents': 0,
           'k': K, 'multi_topk': False, 'skip_connection': False, 'transcode': False}
    cfg.update(extra)
    return cfg


def main():
    for name in ['saelens_v6', 'saelens_pre6', 'saelens_pre6_topk', 'sparsify', 'sparsify_old', 'sparsify_run']:
        shutil.rmtree(os.path.join(HERE, name), ignore_errors=True)
    w = make_weights(20240607)
    base = {k: w[k] for k in ['W_enc', 'b_enc', 'W_dec', 'b_dec']}

    write_dir(os.path.join(HERE, 'saelens_v6'), 'sae_weights.safetensors', {**base, 'threshold': w['threshold']}, {
        'architecture': 'jumprelu', 'd_in': D_IN, 'd_sae': D_SAE, 'dtype': 'float32', 'device': 'cpu',
        'apply_b_dec_to_input': True, 'normalize_activations': 'none', 'reshape_activations': 'none',
        'metadata': {'sae_lens_version': '6.5.1', 'sae_lens_training_version': '6.5.1',
                     'model_name': 'gpt2', 'hook_name': 'blocks.0.hook_resid_pre', 'hook_head_index': None,
                     'context_size': 128, 'prepend_bos': True},
    })

    scale = np.random.default_rng(7).uniform(0.5, 3.0, D_SAE).astype(np.float32)
    pre6 = dict(base)
    pre6['W_dec'] = (w['W_dec'] / scale[:, None]).astype(np.float32)
    pre6['scaling_factor'] = scale
    pre6_cfg = {'d_in': D_IN, 'd_sae': D_SAE, 'dtype': 'torch.float32', 'device': 'cpu',
                'model_name': 'gpt2', 'hook_point': 'blocks.0.hook_resid_pre', 'hook_point_layer': 0,
                'hook_point_head_index': None, 'activation_fn_str': 'relu', 'apply_b_dec_to_input': True,
                'finetuning_scaling_factor': True, 'context_size': 128, 'prepend_bos': True,
                'normalize_activations': 'none', 'sae_lens_training_version': '3.13.0'}
    write_dir(os.path.join(HERE, 'saelens_pre6'), 'sae_weights.safetensors', pre6, pre6_cfg)

    topk_cfg = {k: v for k, v in pre6_cfg.items() if k != 'finetuning_scaling_factor'}
    topk_cfg.update({'activation_fn_str': 'topk', 'activation_fn_kwargs': {'k': K}})
    write_dir(os.path.join(HERE, 'saelens_pre6_topk'), 'sae_weights.safetensors', base, topk_cfg)

    def sparsify_tensors(ws):
        return {'encoder.weight': ws['W_enc'].T.copy(), 'encoder.bias': ws['b_enc'], 'W_dec': ws['W_dec'],
                'b_dec': ws['b_dec']}

    write_dir(os.path.join(HERE, 'sparsify'), 'sae.safetensors', sparsify_tensors(w), sparsify_cfg(d_in=D_IN))
    write_dir(os.path.join(HERE, 'sparsify_old'), 'sae.safetensors', base, sparsify_cfg(num_latents=D_SAE))

    other = make_weights(99)
    run = os.path.join(HERE, 'sparsify_run')
    write_dir(os.path.join(run, 'seed0', 'layers.0'), 'sae.safetensors', sparsify_tensors(w), sparsify_cfg(d_in=D_IN))
    write_dir(os.path.join(run, 'seed0', 'layers.1'), 'sae.safetensors', sparsify_tensors(other), sparsify_cfg(d_in=D_IN))
    write_dir(os.path.join(run, 'seed1', 'layers.0'), 'sae.safetensors', sparsify_tensors(w), sparsify_cfg(d_in=D_IN))

    dec, dec_zero = unit_rows(w['W_dec'])
    enc, enc_zero = unit_rows(w['W_enc'].T)
    other_dec, _ = unit_rows(other['W_dec'])
    golden = {'d_in': D_IN, 'd_sae': D_SAE, 'k': K,
              'decoder_atoms': dec.tolist(), 'decoder_zero_rows': dec_zero,
              'encoder_atoms': enc.tolist(), 'encoder_zero_rows': enc_zero,
              'layers1_decoder_atoms': other_dec.tolist()}
    with open(os.path.join(HERE, 'expected_atoms.json'), 'w') as f:
        json.dump(golden, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
