// The e2e suite (npm run test:e2e): real hosts in network namespaces, built by test/fleet/setup.sh. Needs root.
// Kept out of `npm test` (package.json's ava files exclude test/e2e).
export default {
  files: ['test/e2e/**/*.e2e.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx', '--conditions=development'],
  workerThreads: false,
  concurrency: 1,
  timeout: '10m',
  verbose: true,
};
