/**
 * husai's version, read from package.json (two directories above both src/core and dist/core), and
 * its numerics version: a counter bumped only when training numerics change (a new kernel order, a
 * changed default, an init fix — anything that changes the bytes a run config trains to). A study
 * refuses to resume across numerics versions (study/provenance.ts), so a docs-only or CLI-only
 * release keeps the same number and old studies resume.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const HUSAI_VERSION: string = (require('../../package.json') as { version: string }).version;

/** Training-numerics version: 1 since husai 0.1.0. Bump only when trained bytes change. */
export const NUMERICS_VERSION = 1;
