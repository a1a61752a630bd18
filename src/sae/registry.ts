/**
 * The architecture registry (docs/ARCHITECTURE.md: "one architecture per file under sae/ registered by name"):
 * the one place the architectures are listed (names.ts holds their names, checked against this map
 * at compile time, so that types.ts can name them without an import cycle); so are the parameters each
 * architecture uses (study/params.ts), the inference rule on loaded checkpoints
 * (checkpoint/encode.ts), the SAELens tensors and k rule (checkpoint/saelens.ts).
 * A new architecture = one file + one line here + one row in test/sae/arch-table.ts.
 */
import { ConfigError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { batchtopk } from './batchtopk.js';
import { gated } from './gated.js';
import { jumprelu } from './jumprelu.js';
import { matryoshka } from './matryoshka.js';
import { relu } from './relu.js';
import { topk } from './topk.js';
import { type ArchName, SAELENS_NAME_OF, saeLensNames } from './names.js';
import type { Architecture, Sae, SaeConfig, SaeConfigInput, SaeField } from './types.js';

const ARCHITECTURES = { relu, topk, batchtopk, jumprelu, gated, matryoshka };

// The map and names.ts agree: each key is its entry's name and carries its SAELens name, and no key
// is missing or extra.
const _matchesNames: { [K in ArchName]: Architecture<K, (typeof SAELENS_NAME_OF)[K]> } = ARCHITECTURES;
const _noExtraKeys: keyof typeof ARCHITECTURES extends ArchName ? true : never = true;
void _matchesNames;
void _noExtraKeys;

const ENTRIES: readonly Architecture[] = Object.values(ARCHITECTURES);

/** Every registered architecture name. */
export function archNames(): ArchName[] {
  return Object.keys(ARCHITECTURES) as ArchName[];
}

/** The architecture registered as `name`; ConfigError listing the known names otherwise. */
export function getArch(name: string): Architecture {
  const a = (ARCHITECTURES as Record<string, Architecture | undefined>)[name];
  if (!a) throw new ConfigError(`unknown SAE architecture '${name}': expected one of ${archNames().join(', ')}`);
  return a;
}

/** The architecture whose SAELens form is `saeLensName`; ConfigError listing the known names otherwise. */
export function archBySaeLens(saeLensName: string): Architecture {
  const a = ENTRIES.find((e) => e.saeLens.name === saeLensName);
  if (!a)
    throw new ConfigError(
      `unknown SAELens architecture '${saeLensName}': expected one of ${saeLensNames().join(', ')}`,
    );
  return a;
}

/** The architectures that use config field `field`, in registry order. */
export function archsUsing(field: SaeField): ArchName[] {
  return archNames().filter((n) => ARCHITECTURES[n].fields.includes(field));
}

/** The architectures that resample dead latents. */
export function archsResampling(): ArchName[] {
  return archNames().filter((n) => getArch(n).resample !== undefined);
}

/** Validates a config input against its architecture (defaults filled). */
export function resolveConfig(input: SaeConfigInput): SaeConfig {
  return getArch(input.arch).resolve(input);
}

/**
 * THE way to a fresh SAE: config + init seed → tensors from the stream `Rng.from(seed, 'init')`.
 * The trainer (and so checkpoint 0 and `husai train`), the study's untrained-SAE null and the tests
 * all start here, so an init option reaches every one of them. b_dec is then overwritten by the
 * trainer with the data's geometric median (train.ts).
 */
export function initSae(cfg: SaeConfig, seed: number): Sae {
  return getArch(cfg.arch).init(cfg, Rng.from(seed, 'init'));
}
