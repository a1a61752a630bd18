/**
 * The names of nsfwjs's pretrained models that `--source nsfwjs:NAME` takes — kept apart from the
 * loader so the CLI can show and check them without importing TensorFlow.js (≈ 0.3 s).
 */
import { ConfigError } from '../../core/errors.js';

export const VISION_MODELS = ['MobileNetV2', 'MobileNetV2Mid', 'InceptionV3'] as const;
export type VisionModelName = (typeof VISION_MODELS)[number];

/** Checks a --source model name, listing the choices otherwise. */
export function checkVisionModel(name: string): VisionModelName {
  if ((VISION_MODELS as readonly string[]).includes(name)) return name as VisionModelName;
  throw new ConfigError(
    `nsfwjs model ${JSON.stringify(name)}: expected one of ${VISION_MODELS.join(', ')} (e.g. --source ` +
      `nsfwjs:MobileNetV2)`,
  );
}
