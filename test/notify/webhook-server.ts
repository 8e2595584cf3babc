// A real HTTP endpoint on 127.0.0.1 for notifier tests: answers each request as scripted (a status with
// headers, hang forever, or close the socket), 200 when the script is empty; records what it received.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Behaviour = { status: number; headers?: Record<string, string> } | 'hang' | 'close';

export interface Received {
  path: string;
  body: unknown;
  raw: string;
  at: number;
  headers: IncomingMessage['headers'];
}

export interface WebhookServer {
  url(path?: string): string;
  received: Received[];
  /** Scripted answers, consumed in order (per path when given). */
  script(behaviours: Behaviour[], path?: string): void;
  /** Answer every request (after the script) like this. */
  always(b: Behaviour): void;
  close(): Promise<void>;
}

export async function startWebhookServer(): Promise<WebhookServer> {
  const scripts = new Map<string, Behaviour[]>();
  let fallback: Behaviour = { status: 200 };
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString()));
    req.on('end', () => {
      const path = req.url ?? '/';
      let body: unknown = null;
      try {
        body = JSON.parse(raw);
      } catch {
        body = null;
      }
      received.push({ path, body, raw, at: Date.now(), headers: req.headers });
      const b = scripts.get(path)?.shift() ?? scripts.get('*')?.shift() ?? fallback;
      if (b === 'hang') {
        hanging.add(res);
        return;
      }
      if (b === 'close') {
        req.socket.destroy();
        return;
      }
      res.writeHead(b.status, { 'content-type': 'text/plain', ...b.headers });
      res.end(b.status < 300 ? 'ok' : 'no');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    received,
    script: (bs, path = '*') => scripts.set(path, [...(scripts.get(path) ?? []), ...bs]),
    always: (b) => {
      fallback = b;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
