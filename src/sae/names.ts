/**
 * The registered architectures' names, in a file of their own so that the types every architecture
 * file imports (types.ts, checkpoint/types.ts) can name them without importing the registry, which
 * imports the architecture files (no import cycle). registry.ts checks at compile time that its
 * ARCHITECTURES map has exactly these keys, each entry with this SAELens name: adding an
 * architecture is one line here and one in registry.ts (CONTRIBUTING.md, recipe 1).
 */

/** husai's architecture name → the SAELens cfg.json `architecture` it writes and reads. */
export const SAELENS_NAME_OF = {
  relu: 'standard',
  topk: 'topk',
  batchtopk: 'batchtopk',
  jumprelu: 'jumprelu',
  gated: 'gated',
  matryoshka: 'matryoshka_batchtopk',
} as const;

/** husai's architecture names. */
export type ArchName = keyof typeof SAELENS_NAME_OF;
/** The SAELens cfg.json `architecture` names the registered architectures write and read. */
export type SaeArchitecture = (typeof SAELENS_NAME_OF)[ArchName];

/** Every SAELens architecture name a registered architecture writes and reads, in registry order. */
export function saeLensNames(): SaeArchitecture[] {
  return Object.values(SAELENS_NAME_OF);
}
