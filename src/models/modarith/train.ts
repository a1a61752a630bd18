/**
 * Training the modular-arithmetic transformer to grokking (docs/SCIENCE.md §5; Nanda et al. 2023):
 * full-batch AdamW with decoupled weight decay on the training pairs, linear warm-up, loss at the
 * "=" position only. Logs training and validation loss and accuracy every `log_every` steps. A
 * non-finite loss or gradient stops the run with a NumericError naming the step and tensor.
 *
 * Deterministic: the same config on the same engine and thread count gives byte-identical weights
 * (initialisation from Rng.from(seed, 'modarith', tensor); mini-batch order, when used, from
 * Rng.from(seed, 'modarith-batches', epoch); every kernel is deterministic, engine/types.ts).
 */
import { NumericError } from '../../core/errors.js';
import { Rng } from '../../core/rng.js';
import type { Engine } from '../../engine/types.js';
import { crossEntropy } from '../../nn/cross-entropy.js';
import { AdamState, type TensorMap } from '../../nn/optim.js';
import { type ModArithConfig, modelPart } from './config.js';
import { type ModArithData, makeModArith, selectPairs } from './dataset.js';
import { Transformer, initParams } from './transformer.js';

export interface LogEntry {
  step: number;
  train_loss: number;
  train_acc: number;
  val_loss: number;
  val_acc: number;
  /** Seconds since training began. */
  seconds: number;
}

interface TrainResult {
  params: TensorMap;
  history: LogEntry[];
  /** The last evaluation (after the final step). */
  final: LogEntry;
  /** Steps actually run (fewer than cfg.steps after an early stop). */
  steps: number;
  stoppedEarly: boolean;
}

export interface TrainHooks {
  onLog?: (entry: LogEntry, totalSteps: number) => void;
}

/** Mean loss and accuracy of the model on the given pairs, in chunks (no gradients). */
function evaluate(
  model: Transformer,
  data: ModArithData,
  pairs: Int32Array,
  chunk = 8192,
): { loss: number; acc: number } {
  let loss = 0;
  let acc = 0;
  for (let s = 0; s < pairs.length; s += chunk) {
    const part = pairs.subarray(s, Math.min(pairs.length, s + chunk));
    const { tokens, targets } = selectPairs(data, part);
    const r = crossEntropy(model.forward(tokens, true).logitsNC, part.length, data.p, targets);
    loss += r.loss * part.length;
    acc += r.accuracy * part.length;
  }
  return { loss: loss / pairs.length, acc: acc / pairs.length };
}

export function trainModArith(cfg: ModArithConfig, e: Engine, hooks: TrainHooks = {}): TrainResult {
  const data = makeModArith(cfg.p, cfg.task, cfg.train_frac, cfg.data_seed);
  const params = initParams(modelPart(cfg), cfg.seed);
  const model = new Transformer(modelPart(cfg), params, e);
  const grads: TensorMap = Object.fromEntries(Object.entries(params).map(([n, t]) => [n, new Float32Array(t.length)]));
  const adam = new AdamState(params);
  const full = cfg.batch_size === 0 || cfg.batch_size >= data.train.length;
  const fullBatch = full ? selectPairs(data, data.train) : null;
  const B = full ? data.train.length : cfg.batch_size;
  const gLogits = new Float32Array(B * cfg.p);
  const history: LogEntry[] = [];
  const t0 = Date.now();
  let order: Uint32Array = new Uint32Array(0);
  let cursor = Infinity;
  let epoch = 0;
  let streak = 0;
  let lastTrain = { loss: NaN, acc: NaN };
  let step = 0;
  const log = (): LogEntry => {
    const val = evaluate(model, data, data.val);
    const entry: LogEntry = {
      step,
      train_loss: lastTrain.loss,
      train_acc: lastTrain.acc,
      val_loss: val.loss,
      val_acc: val.acc,
      seconds: (Date.now() - t0) / 1000,
    };
    history.push(entry);
    hooks.onLog?.(entry, cfg.steps);
    return entry;
  };
  let stoppedEarly = false;
  for (step = 0; step < cfg.steps; step++) {
    let batch = fullBatch;
    if (!batch) {
      if (cursor + B > order.length) {
        order = Rng.from(cfg.seed, 'modarith-batches', epoch++).permutation(data.train.length);
        cursor = 0;
      }
      const pick = new Int32Array(B);
      for (let j = 0; j < B; j++) pick[j] = data.train[order[cursor + j]];
      cursor += B;
      batch = selectPairs(data, pick);
    }
    const fw = model.forward(batch.tokens, true);
    const ce = crossEntropy(fw.logitsNC, B, cfg.p, batch.targets, gLogits);
    if (!Number.isFinite(ce.loss))
      throw new NumericError(
        `modarith training: loss is ${ce.loss} at step ${step}; lower lr (${cfg.lr}) or check the config`,
      );
    lastTrain = { loss: ce.loss, acc: ce.accuracy };
    if (step % cfg.log_every === 0) {
      const entry = log();
      streak = entry.val_acc >= cfg.stop_val_acc && cfg.stop_val_acc < 1 ? streak + 1 : 0;
      if (cfg.stop_val_acc < 1 && streak >= cfg.stop_patience) {
        stoppedEarly = true;
        break;
      }
    }
    model.backward(fw, gLogits, grads);
    for (const [name, g] of Object.entries(grads)) {
      if (!Number.isFinite(e.sumSq(g)))
        throw new NumericError(`modarith training: gradient of ${name} is not finite at step ${step}`);
    }
    const lr = cfg.warmup_steps > 0 ? cfg.lr * Math.min(1, (step + 1) / cfg.warmup_steps) : cfg.lr;
    adam.step(e, params, grads, {
      lr,
      beta1: cfg.beta1,
      beta2: cfg.beta2,
      eps: cfg.eps,
      step: step + 1,
      weightDecay: cfg.weight_decay,
    });
  }
  // An early stop broke out right after logging the weights as saved; otherwise evaluate them
  // (training loss and accuracy over all training pairs, after the last update).
  if (!stoppedEarly) {
    const tr = evaluate(model, data, data.train);
    lastTrain = { loss: tr.loss, acc: tr.acc };
    log();
  }
  return { params, history, final: history[history.length - 1], steps: step, stoppedEarly };
}
