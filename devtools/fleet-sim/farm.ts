// The simulated fleet's components: one HTTP server standing in for every device's pipeline.
// Each device's components are reached under /d/<device>/<component>: POST .../validate and
// .../apply take a proposal (agent/io/delivery.ts), GET .../healthz says whether the component
// is healthy. A scenario breaks health: `breaks(device, config)` decides, for what a device's
// component was last given, whether it now fails.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Farm {
  url: string;
  /** Applies received, by device. */
  applies: Map<string, number>;
  /** Whether a device's component fails with the configuration it was last given (none: healthy). */
  breaks: ((device: string, component: string, body: string) => boolean) | undefined;
  close(): Promise<void>;
}

/** Proposals are a few kilobytes; a larger body is refused before it is held. */
const MAX_BODY = 1024 * 1024;

export async function startFarm(): Promise<Farm> {
  const last = new Map<string, string>();
  const farm: Farm = { url: '', applies: new Map(), breaks: undefined, close: async () => undefined };
  const server = createServer((req, res) => {
    const m = /^\/d\/([a-z0-9-]+)\/([a-z_-]+)\/(validate|apply|healthz)$/.exec(req.url ?? '');
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const [, device, component, verb] = m as unknown as [string, string, string, string];
    const key = `${device}/${component}`;
    if (verb === 'healthz') {
      const body = last.get(key);
      const broken = body !== undefined && farm.breaks?.(device, component, body) === true;
      res.writeHead(broken ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(broken ? { healthy: false, reason: 'simulated failure' } : { healthy: true }));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy();
      else chunks.push(c);
    });
    req.on('end', () => {
      if (verb === 'apply') {
        last.set(key, Buffer.concat(chunks).toString('utf8'));
        farm.applies.set(device, (farm.applies.get(device) ?? 0) + 1);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  farm.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  farm.close = () =>
    new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return farm;
}
