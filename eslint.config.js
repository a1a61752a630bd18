// Lint: typescript-eslint's recommended rules plus the layer rule of DESIGN.md — imports point
// downward only. Each layer lists the layers it may import; anything else is an error that names
// the layer plan, so a newcomer learns it from the message.
import tseslint from 'typescript-eslint';

const LAYERS = ['core', 'engine', 'formats', 'nn', 'sae', 'data', 'metrics', 'models', 'inspect', 'study', 'report', 'bench', 'cli'];
const ALLOWED = {
  core: ['core'],
  engine: ['core', 'engine'],
  formats: ['core', 'formats'],
  nn: ['core', 'engine', 'nn'],
  sae: ['core', 'engine', 'formats', 'nn', 'sae'],
  data: ['core', 'engine', 'formats', 'data'],
  metrics: ['core', 'engine', 'metrics'],
  models: ['core', 'engine', 'formats', 'nn', 'models'],
  inspect: ['core', 'engine', 'formats', 'nn', 'sae', 'data', 'metrics', 'models', 'inspect'],
  study: ['core', 'engine', 'formats', 'nn', 'sae', 'data', 'metrics', 'models', 'inspect', 'study'],
  report: ['core', 'formats', 'metrics', 'inspect', 'study', 'report'],
  // Measurement helpers of `husai bench`, kept out of the shipped numeric layers; only cli/ uses them.
  bench: ['core', 'engine', 'sae', 'bench'],
  cli: LAYERS,
};

const layerRules = Object.entries(ALLOWED).map(([layer, allowed]) => {
  const forbidden = LAYERS.filter((l) => !allowed.includes(l));
  return {
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: forbidden.length === 0 ? [] : [
            {
              regex: `^\\.\\.?/(\\.\\./)*(${forbidden.join('|')})/`,
              message: `src/${layer}/ may import only ${allowed.join(', ')} (DESIGN.md: layers import downward only; sae/, data/, metrics/ and models/ are peers joined by inspect/ and study/).`,
            },
          ],
        },
      ],
    },
  };
});

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'runs/**', 'native/**', 'bin/**', 'eslint.config.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Only cli/ prints or exits (DESIGN.md, "Errors are typed").
      'no-console': 'error',
      'no-restricted-properties': ['error', { object: 'process', property: 'exit', message: 'Only src/cli/ exits.' }],
    },
  },
  // prettier keeps code within 120 columns but never breaks strings or comments: this catches those.
  { files: ['src/**/*.ts'], rules: { 'max-len': ['error', { code: 120, ignoreUrls: false }] } },
  { files: ['src/cli/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts', 'scripts/**/*'], rules: { 'no-console': 'off', 'no-restricted-properties': 'off' } },
  ...layerRules,
);
