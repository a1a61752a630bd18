/**
 * The architecture registry (DESIGN.md: "one architecture per file under sae/ registered by name"):
 * the one place the architectures are listed. ArchName (husai's names) and SaeArchitecture (the
 * SAELens cfg.json names they write and read) are derived from it; so are the parameters each
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
import type { Architecture, Sae, SaeConfig, SaeConfigInput, SaeField } from './types.js';

const ARCHITECTURES = { relu, topk, batchtopk, jumprelu, gated, matryoshka };

/** husai's architecture names. */
export type ArchName = keyof typeof ARCHITECTURES;
/** The SAELens cfg.json `architecture` names the registered architectures write and read. */
export type SaeArchitecture = (typeof ARCHITECTURES)[ArchName]['saeLens']['name'];

// Each key must be its entry's name.
const _keysAreNames: { [K in ArchName]: Architecture<K> } = ARCHITECTURES;
void _keysAreNames;

const ENTRIES: readonly Architecture[] = Object.values(ARCHITECTURES);

/** Every registered architecture name. */
export function archNames(): ArchName[] {
  return Object.keys(ARCHITECTURES) as ArchName[];
}

/** Every SAELens architecture name a registered architecture writes and reads, in registry order. */
export function saeLensNames(): SaeArchitecture[] {
  return ENTRIES.map((a) => a.saeLens.name as SaeArchitecture);
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
  if (!a) throw new ConfigError(`unknown SAELens architecture '${saeLensName}': expected one of ${saeLensNames().join(', ')}`);
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
