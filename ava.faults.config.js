// The fault matrix's slow part (npm run test:faults): kill -9 loops in the simulator and over the in-process
// SSH fleet. package.json's ava files keep these out of `npm test`; the fast fault tests run in both.
export default {
  files: ['test/faults/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx', '--conditions=development'],
  workerThreads: false,
  // The SSH kill matrix spawns many CLI processes; one file at a time keeps a 2-core machine responsive.
  concurrency: 1,
  timeout: '10m',
  verbose: true,
};
