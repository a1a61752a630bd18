/** husai's version, read from package.json (two directories above both src/core and dist/core). */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
export const HUSAI_VERSION: string = (require('../../package.json') as { version: string }).version;
