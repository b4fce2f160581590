// The socketmap server over real sockets: netstring framing, map name, OK/NOTFOUND from the
// real store, TEMP on a store error, expiry at the instant, and the limits.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { StoreError } from '../../src/core/errors.js';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { netstring, SocketmapServer, type SocketmapLimits } from '../../src/publish/socketmap-server.js';
import { memoryLogger } from '../helpers/quiet-logger.js';

const T = 1_700_000_000_000;
const open: SocketmapServer[] = [];
after(async () => {
  for (const s of open) await s.stop();
});

async function server(opts: { store?: { isGranted(ip: string, now: number): boolean }; now?: () => number; limits?: Partial<SocketmapLimits> } = {}) {
  const { logger, messages } = memoryLogger();
  const s = new SocketmapServer({
    address: { kind: 'inet', host: '127.0.0.1', port: 0 }, allowNonLoopback: false, store: opts.store ?? new SqliteStore(':memory:'),
    mapName: 'popgate', value: 'OK', logger, limits: opts.limits, now: opts.now ?? (() => T),
  });
  open.push(s);
  await s.start();
  return { s, messages, port: Number(s.bound().split(':').pop()) };
}

/** Sends chunks; resolves with every netstring payload received and whether the server closed. */
function ask(port: number, chunks: (string | Buffer)[], want: number, timeoutMs = 3000): Promise<{ replies: string[]; closed: boolean }> {
  const sock = connect({ host: '127.0.0.1', port });
  let raw = '';
  const parse = () => {
    const out: string[] = [];
    let rest = raw;
    for (let m; (m = /^(\d+):/.exec(rest)); ) {
      const n = Number(m[1]);
      const body = rest.slice(m[0].length, m[0].length + n);
      if (rest[m[0].length + n] !== ',') break;
      out.push(body);
      rest = rest.slice(m[0].length + n + 1);
    }
    return out;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (sock.destroy(), reject(new Error(`no answer, got ${JSON.stringify(raw)}`))), timeoutMs);
    sock.on('data', (d) => {
      raw += d.toString('latin1');
      if (want > 0 && parse().length >= want) {
        clearTimeout(timer);
        sock.destroy();
        resolve({ replies: parse(), closed: false });
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => (clearTimeout(timer), resolve({ replies: parse(), closed: true })));
    sock.on('connect', async () => {
      for (const c of chunks) {
        sock.write(c);
        await new Promise((r) => setTimeout(r, 5));
      }
    });
  });
}

describe('socketmap server', () => {
  it('answers OK VALUE for a granted address, NOTFOUND for names and others, many per connection', async () => {
    const store = new SqliteStore(':memory:');
    store.grantManual('192.0.2.10', T + 60_000, T, 'test');
    store.grantManual('2001:db8:1:2::5', T + 60_000, T, 'test');
    const { s, port } = await server({ store });
    const keys = ['unknown', '192.0.2.10', 'localhost', '192.0.2.11', '2001:db8:1:2::5', '2001:DB8:1:2:0:0:0:5', '192.0.2', ''];
    const { replies } = await ask(port, [keys.map((k) => netstring(`popgate ${k}`)).join('')], keys.length);
    assert.deepEqual(replies, ['NOTFOUND ', 'OK OK', 'NOTFOUND ', 'NOTFOUND ', 'OK OK', 'OK OK', 'NOTFOUND ', 'NOTFOUND ']);
    assert.equal(s.answered, keys.length);
  });

  it('a netstring split anywhere, byte by byte, is read whole', async () => {
    const store = new SqliteStore(':memory:');
    store.grantManual('192.0.2.12', T + 60_000, T, 'test');
    const { port } = await server({ store });
    assert.deepEqual((await ask(port, [...netstring('popgate 192.0.2.12')], 1)).replies, ['OK OK']);
  });

  it('expires at the instant: OK one millisecond before, NOTFOUND at expires_at', async () => {
    const store = new SqliteStore(':memory:');
    store.grantManual('192.0.2.20', T + 1000, T, 'test');
    let now = T + 999;
    const { port } = await server({ store, now: () => now });
    assert.deepEqual((await ask(port, [netstring('popgate 192.0.2.20')], 1)).replies, ['OK OK']);
    now = T + 1000;
    assert.deepEqual((await ask(port, [netstring('popgate 192.0.2.20')], 1)).replies, ['NOTFOUND ']);
  });

  it('another map name is PERM; a store error is TEMP, never OK', async () => {
    const broken = { isGranted(): boolean { throw new StoreError('db', 'database is locked'); } };
    const { port, messages } = await server({ store: broken });
    const { replies } = await ask(port, [netstring('other 192.0.2.1') + netstring('popgate 192.0.2.1') + netstring('popgate unknown')], 3);
    assert.match(replies[0]!, /^PERM /);
    assert.match(replies[1]!, /^TEMP /);
    assert.equal(replies[2], 'NOTFOUND ', 'a name is not an address: no store lookup, no error');
    assert.ok(messages.some((m) => /^error: .*TEMP for 192\.0\.2\.1/.test(m)));
  });

  it('limits: not a netstring, too long, no final comma, unfinished request: the connection is closed', async () => {
    const { port } = await server({ limits: { maxRequestBytes: 64, requestMs: 150 } });
    assert.deepEqual(await ask(port, ['GET 192.0.2.1\r\n'], 0), { replies: [], closed: true });
    assert.deepEqual(await ask(port, [`65:popgate ${'x'.repeat(57)},`], 0), { replies: [], closed: true });
    assert.deepEqual(await ask(port, ['123456789:'], 0), { replies: [], closed: true });
    assert.deepEqual(await ask(port, ['18:popgate 192.0.2.1;'], 0), { replies: [], closed: true });
    const t0 = Date.now();
    assert.deepEqual(await ask(port, ['18:popgate 192'], 0), { replies: [], closed: true });
    assert.ok(Date.now() - t0 >= 140);
  });
});
