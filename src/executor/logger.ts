// The slice of a pino logger the executors use, so tests can pass a recorder and the CLI a pino child.
// Callers put only fixed, non-secret keys in `obj` (host, port, reason): never options or key material.
export interface ExecutorLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export const silentLogger: ExecutorLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
};
