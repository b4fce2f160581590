// The socketmap server over real sockets: netstring framing, map name, OK/NOTFOUND from a
// grant lookup, TEMP when it cannot answer (never OK), and the limits.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, describe, it } from 'node:test';
import { FOUND, NOTFOUND, type GrantLookup } from '../../src/grants/lookup.js';
import { SocketmapServer, type SocketmapLimits } from '../../src/publish/socketmap-server.js';
import { encodeNetstring as netstring } from '../../src/wire/netstring.js';
import { memoryLogger } from '../helpers/quiet-logger.js';

const T = 1_700_000_000_000;
const open: SocketmapServer[] = [];
after(async () => {
  for (const s of open) await s.stop();
});

/** Grants exact keys until their expiry (canonical forms, brake and expiry rules are the real lookup's job). */
function grants(table: Record<string, number>): GrantLookup {
  return { lookup: (key, now) => (Object.hasOwn(table, key) && now < table[key]! ? FOUND : NOTFOUND) };
}

async function server(opts: { lookup?: GrantLookup; now?: () => number; limits?: Partial<SocketmapLimits> } = {}) {
  const { logger, messages } = memoryLogger();
  const s = new SocketmapServer({
    address: { kind: 'inet', host: '127.0.0.1', port: 0 },
    allowNonLoopback: false,
    lookup: opts.lookup ?? grants({}),
    mapName: 'popgate',
    value: 'OK',
    logger,
    limits: opts.limits,
    now: opts.now ?? (() => T),
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
  it('answers OK VALUE for a granted key, NOTFOUND for others, many per connection', async () => {
    const { s, port } = await server({ lookup: grants({ '192.0.2.10': T + 60_000, '2001:db8:1:2::5': T + 60_000 }) });
    const keys = ['unknown', '192.0.2.10', 'localhost', '192.0.2.11', '2001:db8:1:2::5', '192.0.2', '', 'popgate 192.0.2.10'];
    const { replies } = await ask(port, [keys.map((k) => netstring(`popgate ${k}`)).join('')], keys.length);
    assert.deepEqual(replies, ['NOTFOUND ', 'OK OK', 'NOTFOUND ', 'NOTFOUND ', 'OK OK', 'NOTFOUND ', 'NOTFOUND ', 'NOTFOUND ']);
    assert.equal(s.answered, keys.length);
  });

  it('a netstring split anywhere, byte by byte, is read whole', async () => {
    const { port } = await server({ lookup: grants({ '192.0.2.12': T + 60_000 }) });
    assert.deepEqual((await ask(port, [...netstring('popgate 192.0.2.12')], 1)).replies, ['OK OK']);
  });

  it('expires at the instant: OK one millisecond before, NOTFOUND at expires_at', async () => {
    let now = T + 999;
    const { port } = await server({ lookup: grants({ '192.0.2.20': T + 1000 }), now: () => now });
    assert.deepEqual((await ask(port, [netstring('popgate 192.0.2.20')], 1)).replies, ['OK OK']);
    now = T + 1000;
    assert.deepEqual((await ask(port, [netstring('popgate 192.0.2.20')], 1)).replies, ['NOTFOUND ']);
  });

  it('another map name is PERM; a lookup that cannot answer is TEMP, never OK', async () => {
    const broken: GrantLookup = { lookup: (key) => (key === 'unknown' ? NOTFOUND : { kind: 'tempfail', why: 'database is locked' }) };
    const { port, messages } = await server({ lookup: broken });
    const { replies } = await ask(port, [netstring('other 192.0.2.1') + netstring('popgate 192.0.2.1') + netstring('popgate unknown')], 3);
    assert.match(replies[0]!, /^PERM /);
    assert.equal(replies[1], 'TEMP popgate cannot answer now: database is locked');
    assert.equal(replies[2], 'NOTFOUND ');
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
