// Lint: promises must be awaited, and the pure core (planner, machines) must not reach for effects.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const effectfulModules = {
  patterns: [
    { group: ['node:*'], message: 'The pure core does no I/O: take data in, return data out (STYLE.md §3).' },
    { group: ['ssh2', 'ssh2/*', 'lowdb', 'lowdb/*', 'pino', 'pino/*', 'p-queue', 'yaml', 'commander'], message: 'The pure core does no I/O (STYLE.md §3).' },
    { group: ['**/drivers/**', '**/executor/**', '**/store/**', '**/cli/**', '**/log/**', '**/notify/**'], message: 'The pure core must not import effectful layers (STYLE.md §3).' },
  ],
  paths: ['fs', 'fs/promises', 'child_process', 'net', 'http', 'https', 'os', 'path', 'crypto', 'process'].map((name) => ({
    name,
    message: 'The pure core does no I/O (STYLE.md §3).',
  })),
};

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
    files: ['src/planner/**/*.ts', 'src/machines/**/*.ts', 'src/model/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', effectfulModules] },
  },
  {
    // The admission policy is shared by the planner and the engine: pure, and it depends on the model only.
    files: ['src/policy/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...effectfulModules,
          patterns: [...effectfulModules.patterns, { group: ['../*', '!../model'], message: 'src/policy/ imports only src/model/ (and itself): both the planner and the engine use it.' }],
        },
      ],
    },
  },
);
