// The metrics endpoint: GET /metrics over HTTP on the configured address, loopback unless
// allow_non_loopback (like the live servers: it has no authentication). Nothing else is served.
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';
import { ConfigError, describe, UnavailableError } from '../core/errors.js';
import { formatListenAddress, isLoopback, type ListenAddress } from '../publish/listen-address.js';

export class MetricsServer {
  private server: Server | null = null;

  constructor(
    private readonly address: Extract<ListenAddress, { kind: 'inet' }>,
    private readonly registry: Registry,
    private readonly allowNonLoopback = false,
  ) {}

  get where(): string {
    return `metrics ${formatListenAddress(this.address)}`;
  }

  async start(): Promise<void> {
    const { host, port } = this.address;
    if (!this.allowNonLoopback && !isLoopback(host)) {
      throw new ConfigError(
        this.where,
        `${host} is not a loopback address`,
        'use inet:127.0.0.1:PORT and let Prometheus scrape through a local proxy, or set allow_non_loopback = yes and firewall the port',
      );
    }
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('popgate serves /metrics only\n');
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${describe(err)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new UnavailableError(this.where, `cannot listen (${describe(err)})`, 'pick a free port in the metrics setting')));
      server.listen(port, host, () => resolve());
    });
    server.unref();
    this.server = server;
  }

  /** The port bound (for tests that ask for port 0). */
  port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : this.address.port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
