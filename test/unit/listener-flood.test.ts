// A client that sends requests without reading the answers (68 MB → 1.3 GB RSS
// and 3.4 million warning lines). The server must stop reading while its answers are not drained,
// so the client ends up blocked, the answers held per connection stay bounded, the warnings stay
// few, and once the client reads, every request it sent is answered, in order.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { NOTFOUND } from '../../src/grants/lookup.js';
import { DEFAULT_LISTENER_LIMITS } from '../../src/publish/live-listener.js';
import { PolicyServer } from '../../src/publish/policy-server.js';
import { SocketmapServer } from '../../src/publish/socketmap-server.js';
import { encodeNetstring } from '../../src/wire/netstring.js';
import { memoryLogger } from '../helpers/quiet-logger.js';
import { waitFor } from '../helpers/wait.js';

const INET = { kind: 'inet', host: '127.0.0.1', port: 0 } as const;
const lookup = { lookup: () => NOTFOUND };
const stops: (() => Promise<void>)[] = [];
after(async () => {
  for (const s of stops) await s();
});

const DRIVERS = [
  {
    name: 'socketmap',
    make: (logger: ReturnType<typeof memoryLogger>['logger']) => new SocketmapServer({ address: INET, allowNonLoopback: false, lookup, mapName: 'popgate', value: 'OK', logger }),
    // Half of them for a map that does not exist: each is a PERM and was a warning line.
    batch: () => Array.from({ length: 1000 }, (_, i) => encodeNetstring(i % 2 ? 'popgate 192.0.2.1' : 'nosuchmap 192.0.2.1')).join(''),
    perBatch: 1000,
    count: (got: string) => (got.match(/(?:NOTFOUND |PERM [^,]*),/g) ?? []).length,
  },
  {
    name: 'policy service',
    make: (logger: ReturnType<typeof memoryLogger>['logger']) => new PolicyServer({ address: INET, allowNonLoopback: false, lookup, action: 'OK', logger }),
    // Half of them without a client_address: each is a DUNNO with a warning.
    batch: () => Array.from({ length: 200 }, (_, i) => `request=smtpd_access_policy\n${i % 2 ? 'client_address=192.0.2.1\n' : ''}\n`).join(''),
    perBatch: 200,
    count: (got: string) => got.split('action=DUNNO\n\n').length - 1,
  },
];

/** Writes batches while the kernel takes them; stops when a write has not drained for 300 ms (the server stopped reading). */
async function flood(s: Socket, batch: string, maxBytes: number, sample: () => void): Promise<{ batches: number; blocked: boolean }> {
  let batches = 0;
  for (let sent = 0; sent < maxBytes; sent += batch.length) {
    batches++;
    sample();
    if (s.write(batch)) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 300);
      s.once('drain', () => (clearTimeout(t), resolve(true)));
    });
    sample();
    if (!drained) return { batches, blocked: true };
  }
  return { batches, blocked: false };
}

for (const d of DRIVERS) {
  describe(`flood without reading: ${d.name}`, () => {
    it('reading stops, answers held stay bounded, warnings stay few, and nothing is lost', async () => {
      const { logger, messages } = memoryLogger('info');
      const server = d.make(logger);
      await server.start();
      stops.push(() => server.stop());
      let peak = 0;
      const sample = () => (peak = Math.max(peak, server.stats().pendingOutputBytes));
      const s = connect({ host: '127.0.0.1', port: Number(server.bound().split(':').pop()) });
      await new Promise((r) => s.once('connect', r));
      s.pause(); // the client never reads while it floods
      const heap0 = process.memoryUsage().heapUsed;
      const { batches, blocked } = await flood(s, d.batch(), 256 * 1024 * 1024, sample);
      const heapGrowth = process.memoryUsage().heapUsed - heap0;
      assert.ok(blocked, `the server read all ${batches} batches without its answers being read`);
      // The bound is checked before each answer: at most one answer beyond it.
      assert.ok(peak <= DEFAULT_LISTENER_LIMITS.maxPendingOutput + 256, `answers held for one client: ${peak} bytes`);
      assert.ok(heapGrowth < 64 * 1024 * 1024, `heap grew by ${Math.round(heapGrowth / 1048576)} MB`);
      // Now the client reads: every request sent is answered.
      let got = '';
      s.setEncoding('latin1');
      s.on('data', (c: string) => (got += c));
      s.resume();
      await waitFor('every answer', () => d.count(got) === batches * d.perBatch, 30_000);
      const warnings = messages.filter((m) => m.startsWith('warn:'));
      assert.ok(warnings.length <= 2, `${warnings.length} warning lines:\n${warnings.slice(0, 5).join('\n')}`);
      s.destroy();
    });
  });
}
