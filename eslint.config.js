// Lint: promises must be awaited, and the layers hold (DESIGN.md "Layout"): the model imports nothing; the pure
// core (planner, policy, machines) imports the model (and the policy, xstate) only; the engine reaches no
// driver, no process and no node:os; only src/app/ — the composition root — imports drivers and sets up
// logging, and only it reads process.env; CLI commands parse flags, call app/ (or the planner) and render.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const DESIGN = 'DESIGN.md "Layout"';

/** Only `./…` imports (and those `allowed`) in a folder of the pure core. */
function only(folder, allowed, why) {
  const rest = allowed.map((a) => `|${a}`).join('');
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: `^(?!\\./${rest})`, message: `${why} (${DESIGN}).` }] }],
      'no-restricted-globals': ['error', { name: 'process', message: `src/${folder}/ is pure: take data in, return data out (STYLE.md §3).` }],
    },
  };
}

/** What no folder but the composition root (and the driver or logger itself) imports. */
const rootOnly = [
  { regex: '(^|/)drivers/', message: `Only src/app/ builds a driver: take an Executor (${DESIGN}).` },
  { regex: '(^|/)log/', message: `Only src/app/ sets up logging: take a Logger (${DESIGN}).` },
  { regex: '(^|/)app/', message: `src/app/ is the composition root: nothing below it imports it (${DESIGN}).` },
];
const rootOnlyPaths = [
  { name: 'pino', allowTypeImports: true, message: `Only src/app/ and src/log/ make loggers: take a Logger (${DESIGN}).` },
  ...['os', 'node:os'].map((name) => ({ name, message: `Only src/app/ reads node:os (the home directory, the user): take it as an argument (${DESIGN}).` })),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.bench-out/**', '.tmp*/**', 'eslint.config.js', 'ava.e2e.config.js', 'ava.faults.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/app/**'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: `Only src/app/ reads the environment: take what you need as an argument (${DESIGN}).` }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/app/**', 'src/drivers/**', 'src/log/**'],
    rules: { 'no-restricted-imports': ['error', { patterns: rootOnly, paths: rootOnlyPaths }] },
  },
  {
    // The lock names the process that holds it (host, pid, boot id): the store's own identity check.
    files: ['src/store/lock.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: rootOnly, paths: rootOnlyPaths.filter((p) => p.name === 'pino') }] },
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [...rootOnly, { regex: '(^|/)(cli|sim)/', message: `The engine never knows its front end or the simulator (${DESIGN}).` }],
          paths: [...rootOnlyPaths, ...['process', 'node:process'].map((name) => ({ name, message: `The engine touches no process: it is handed what it needs (EngineDeps) (${DESIGN}).` }))],
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: `The engine touches no process: it is handed what it needs (EngineDeps) (${DESIGN}).` }],
    },
  },
  {
    // Commands parse flags, call app/ (or the planner) and render; types from below are fine.
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...rootOnly.filter((p) => !p.regex.includes('app')),
            {
              regex: '(^|/)(engine|store|sim|executor|inventory|runbook|notify|audit|report|io|machines|fleet|policy)/',
              allowTypeImports: true,
              message: `A command parses flags, calls src/app/ (or the planner) and renders: the work is in app/ (${DESIGN}).`,
            },
          ],
          paths: rootOnlyPaths,
        },
      ],
    },
  },
  only('model', [], 'src/model/ is the vocabulary floor: it imports nothing'),
  only('policy', ['\\.\\./model/'], 'src/policy/ imports only src/model/ (and itself): both the planner and the engine use it'),
  only('planner', ['\\.\\./model/', '\\.\\./policy/'], 'The planner is pure: it imports only src/model/ and the shared policy'),
  only('machines', ['\\.\\./model/', 'xstate$'], 'The machines are pure: they import only src/model/ and xstate'),
);
