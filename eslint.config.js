// ESLint (flat config): TypeScript everywhere, Vue in the renderer, Prettier owns the formatting.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import vue from 'eslint-plugin-vue';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** An import path (relative or not) that reaches into one of `folders`, as a no-restricted-imports regex. */
const into = (...folders) => `(^|/)(${folders.join('|')})(/|$)`;
const restrict = (files, patterns, paths = []) => ({ files, rules: { 'no-restricted-imports': ['error', { patterns, paths }] } });

// A file gets the rule of the last block that matches it, so each block repeats the engine's own restrictions.
const ENGINE = [
  { regex: into('service', 'cli', 'app', 'web'), message: 'The engine imports nothing from the service, the CLI, the app or web mode.' },
];
const NO_ELECTRON = [{ name: 'electron', message: 'The engine imports nothing from Electron.' }];
const NO_NODE = { regex: '^node:', message: 'Schema modules are bundled by the renderer: no Node built-ins.' };

const layerRules = [
  // The engine runs in the app's worker, the CLI, web mode and the tests: nothing above it, nothing of Electron.
  restrict(['src-main/engine/**'], ENGINE, NO_ELECTRON),
  // Estimators and shared maths know nothing of experiments: the experiment table composes their parameters.
  restrict(
    ['src-main/engine/{cluster,manifold,models,math,metrics}/**'],
    [
      ...ENGINE,
      {
        regex: into('experiments', 'store'),
        message: 'Estimators import nothing from experiments/ or store/ (the table composes their parameters).',
      },
    ],
    NO_ELECTRON,
  ),
  // The store keeps runs; what they mean (the pipeline) is above it.
  restrict(
    ['src-main/engine/store/**'],
    [
      ...ENGINE,
      { regex: into('experiments'), message: 'The store imports nothing from the pipeline (experiments/); schemas are in engine/schema.' },
    ],
    NO_ELECTRON,
  ),
  // Pure schema modules are bundled by the renderer: no Node built-ins; the engine's also nothing of the store or the
  // pipeline (the contract describes the store's records to the UI, by type only).
  restrict(['src-main/contract/**'], [NO_NODE]),
  restrict(
    ['src-main/engine/schema/**', 'src-main/engine/**/*-params.ts', 'src-main/engine/backend/names.ts'],
    [...ENGINE, NO_NODE, { regex: into('store', 'experiments'), message: 'Schema modules import nothing from the store or the pipeline.' }],
    NO_ELECTRON,
  ),
  // The entry points reach the history only through the service (service/history.ts, runs.ts, sweeps.ts…), the
  // operations the UI uses too; the store's types come through the service or the contract.
  restrict(
    ['src-main/cli/**', 'src-main/app/**', 'src-main/web/**'],
    [{ regex: into('store'), message: 'The CLI, the app and web mode import nothing from the store: they go through the service.' }],
  ),
];

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'coverage/**', 'test-artifacts/**', 'resources/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...vue.configs['flat/recommended'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser } },
  },
  {
    files: ['src-renderer/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['src-main/**', 'src-preload/**', 'test/**', 'bench/**', 'scripts/**', 'bin/**', '*.config.*'],
    languageOptions: { globals: globals.node },
  },
  {
    // Preloaded into Electron's installer with node --require: CommonJS by necessity.
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // The layers (docs/architecture.md): each folder may import only from the layers below it.
  ...layerRules,
  {
    rules: {
      // Optional props typed as possibly undefined are meant to be undefined when absent.
      'vue/require-default-prop': 'off',
      // The rule guards against clashes with HTML elements; our single-word components (Modal) have none.
      'vue/multi-word-component-names': 'off',
      // Unused arguments named _… document a callback's shape.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  prettier,
);
