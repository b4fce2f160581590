// The policy service over real sockets: answers from a grant lookup, several requests per
// connection, the configured action, no answer when the lookup cannot answer, and every limit.
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors.js';
import { FOUND, NOTFOUND, type GrantLookup } from '../../src/grants/lookup.js';
import { listenAddress, type ListenAddress } from '../../src/publish/listen-address.js';
import { PolicyServer, type PolicyLimits } from '../../src/publish/policy-server.js';
import { memoryLogger } from '../helpers/quiet-logger.js';

const dir = mkdtempSync(join(tmpdir(), 'popgate-policy-'));
const open: PolicyServer[] = [];
after(async () => {
  for (const p of open) await p.stop();
  rmSync(dir, { recursive: true, force: true });
});
const T = 1_700_000_000_000;
const INET: ListenAddress = { kind: 'inet', host: '127.0.0.1', port: 0 };

/** A socket file left behind by a process killed with -9 (nobody answers on it). */
function staleSocket(path: string, mode = 0o755): void {
  const code = `require('net').createServer().listen(process.argv[1], () => { require('fs').chmodSync(process.argv[1], ${mode}); process.kill(process.pid, 'SIGKILL'); })`;
  spawnSync(process.execPath, ['-e', code, path]);
}

/** A raw client: send text, read until `until` matches or the server closes. */
export async function talk(addr: string, chunks: string[], until: (got: string) => boolean, timeoutMs = 3000): Promise<{ got: string; closed: boolean }> {
  const s: Socket = addr.startsWith('unix:') ? connect(addr.slice(5)) : connect({ host: '127.0.0.1', port: Number(addr.split(':').pop()) });
  let got = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (s.destroy(), reject(new Error(`no answer, got ${JSON.stringify(got)}`))), timeoutMs);
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (until(got)) {
        clearTimeout(timer);
        s.destroy();
        resolve({ got, closed: false });
      }
    });
    s.on('error', () => {});
    s.on('close', () => (clearTimeout(timer), resolve({ got, closed: true })));
    s.on('connect', async () => {
      for (const c of chunks) {
        s.write(c);
        await new Promise((r) => setTimeout(r, 5));
      }
    });
  });
}

const request = (client: string, extra: Record<string, string> = {}) =>
  Object.entries({ request: 'smtpd_access_policy', protocol_state: 'RCPT', protocol_name: 'ESMTP', client_address: client, client_name: 'unknown', ...extra })
    .map(([k, v]) => `${k}=${v}\n`)
    .join('') + '\n';
const replies = (n: number) => (got: string) => got.split('\n\n').length > n;

/** Grants exact keys until their expiry (canonical forms, brake and expiry rules are the real lookup's job). */
function grants(table: Record<string, number>): GrantLookup {
  return { lookup: (key, now) => (Object.hasOwn(table, key) && now < table[key]! ? FOUND : NOTFOUND) };
}

async function server(opts: { lookup?: GrantLookup; now?: () => number; limits?: Partial<PolicyLimits>; action?: string; address?: ListenAddress } = {}) {
  const { logger, messages } = memoryLogger();
  const p = new PolicyServer({
    address: opts.address ?? INET,
    allowNonLoopback: false,
    lookup: opts.lookup ?? grants({}),
    action: opts.action ?? 'OK',
    logger,
    limits: opts.limits,
    now: opts.now ?? (() => T),
  });
  open.push(p);
  await p.start();
  return { p, messages, addr: p.bound() };
}

describe('policy service', () => {
  it('answers OK for a granted client and DUNNO for others, many requests on one connection', async () => {
    const { p, addr } = await server({ lookup: grants({ '192.0.2.10': T + 60_000, '2001:db8::5': T + 60_000 }) });
    const reqs = [request('192.0.2.10'), request('192.0.2.11'), request('2001:db8::5'), request('unknown'), request('192.0.2.10', { request: 'junk' }), request('192.0.2.100')];
    const { got } = await talk(addr, reqs, replies(reqs.length));
    assert.equal(got, ['OK', 'DUNNO', 'OK', 'DUNNO', 'DUNNO', 'DUNNO'].map((a) => `action=${a}\n\n`).join(''));
    assert.equal(p.answered, reqs.length);
    await p.stop();
  });

  it('a grant is refused at the very millisecond it expires; the configured action is used', async () => {
    let now = T + 999;
    const { p, addr } = await server({ lookup: grants({ '192.0.2.20': T + 1000 }), now: () => now, action: 'PERMIT_AUTH_DESTINATION' });
    assert.equal((await talk(addr, [request('192.0.2.20')], replies(1))).got, 'action=PERMIT_AUTH_DESTINATION\n\n');
    now = T + 1000;
    assert.equal((await talk(addr, [request('192.0.2.20')], replies(1))).got, 'action=DUNNO\n\n');
    await p.stop();
  });

  it('a request without client_address, or with two (either order), or two request lines, is DUNNO', async () => {
    const { p, addr } = await server({ lookup: grants({ '192.0.2.30': T + 1000 }) });
    const none = 'request=smtpd_access_policy\nprotocol_state=RCPT\n\n';
    const two = 'request=smtpd_access_policy\nclient_address=192.0.2.31\nclient_address=192.0.2.30\n\n';
    const twoFirst = 'request=smtpd_access_policy\nclient_address=192.0.2.30\nclient_address=192.0.2.31\n\n';
    const twoRequests = 'request=smtpd_access_policy\nrequest=junk\nclient_address=192.0.2.30\n\n';
    const { got } = await talk(addr, [none, two, twoFirst, twoRequests, request('192.0.2.30')], replies(5));
    assert.equal(got, 'action=DUNNO\n\n'.repeat(4) + 'action=OK\n\n');
    await p.stop();
  });

  it('a lookup that cannot answer closes the connection without any answer', async () => {
    const broken: GrantLookup = { lookup: () => ({ kind: 'tempfail', why: 'disk I/O error' }) };
    const { p, addr, messages } = await server({ lookup: broken });
    const r = await talk(addr, [request('192.0.2.40')], () => false);
    assert.equal(r.got, '');
    assert.ok(r.closed);
    assert.ok(messages.some((m) => /error: .*no answer for 192\.0\.2\.40/.test(m)));
    await p.stop();
  });

  it('limits: size, attribute count, malformed lines, slow requests and idle connections are cut', async () => {
    const { p, addr, messages } = await server({ limits: { maxRequestBytes: 200, maxAttributes: 5, requestMs: 150, idleMs: 300 } });
    const big = await talk(addr, [`request=smtpd_access_policy\nsender=${'x'.repeat(300)}\n\n`], () => false);
    assert.deepEqual(big, { got: '', closed: true });
    const many = await talk(addr, [Array.from({ length: 6 }, (_, i) => `a${i}=1\n`).join('') + 'client_address=192.0.2.1\n\n'], () => false);
    assert.deepEqual(many, { got: '', closed: true });
    assert.deepEqual(await talk(addr, ['request smtpd_access_policy\n\n'], () => false), { got: '', closed: true });
    const t0 = Date.now();
    assert.deepEqual(await talk(addr, ['request=smtpd_access_policy\n'], () => false), { got: '', closed: true });
    assert.ok(Date.now() - t0 >= 140, 'the unfinished request was given its time');
    const t1 = Date.now();
    const idle = await talk(addr, [request('192.0.2.1')], () => false);
    assert.deepEqual(idle, { got: 'action=DUNNO\n\n', closed: true }, messages.join('\n'));
    assert.deepEqual(idle, { got: 'action=DUNNO\n\n', closed: true });
    assert.ok(Date.now() - t1 >= 290, 'closed by the idle limit');
    // A request split anywhere is fine while it stays within the limits.
    assert.equal((await talk(addr, ['requ', 'est=smtpd_access_policy\ncli', 'ent_address=192.0.2.1\n', '\n'], replies(1))).got, 'action=DUNNO\n\n');
    await p.stop();
  });

  it('refuses a non-loopback inet address unless allowed', async () => {
    const { logger } = memoryLogger();
    const p = new PolicyServer({ address: listenAddress('inet:192.0.2.1:10040')!, allowNonLoopback: false, lookup: grants({}), action: 'OK', logger });
    await assert.rejects(p.start(), (e: unknown) => e instanceof ConfigError && /not loopback.*allow_non_loopback/.test(e.message));
  });

  it('UNIX socket: mode 0660, a stale socket replaced, a live one never stolen, removed at stop', async () => {
    const path = join(dir, 'policy.sock');
    // A stale socket: bound by a server that is gone.
    staleSocket(path);
    assert.ok(lstatSync(path).isSocket());
    const { p, addr } = await server({ address: { kind: 'unix', path } });
    assert.equal(lstatSync(path).mode & 0o777, 0o660);
    assert.equal((await talk(addr, [request('192.0.2.1')], replies(1))).got, 'action=DUNNO\n\n');
    const second: PolicyServer = new PolicyServer({ address: { kind: 'unix', path }, allowNonLoopback: false, lookup: grants({}), action: 'OK', logger: memoryLogger().logger });
    open.push(second);
    await assert.rejects(second.start(), /another process is listening/);
    await p.stop();
    assert.ok(!existsSync(path), 'the socket is removed at stop');
    writeFileSync(path, 'not a socket');
    await assert.rejects(second.start(), /exists and is not a socket/);
  });
});

describe('listen addresses', () => {
  it('parses Postfix-style addresses and refuses the rest with a hint', () => {
    assert.deepEqual(listenAddress('unix:/var/spool/postfix/private/popgate-policy'), { kind: 'unix', path: '/var/spool/postfix/private/popgate-policy' });
    assert.deepEqual(listenAddress('inet:127.0.0.1:10040'), { kind: 'inet', host: '127.0.0.1', port: 10040 });
    assert.deepEqual(listenAddress('inet:[::1]:10040'), { kind: 'inet', host: '::1', port: 10040 });
    assert.equal(listenAddress('none'), null);
    for (const bad of [
      'unix:private/popgate',
      'inet:localhost:10040',
      'inet:::1:10040',
      'inet:[127.0.0.1]:1',
      'inet:127.0.0.1:0',
      'inet:127.0.0.1:70000',
      'tcp:127.0.0.1:1',
      `unix:/${'x'.repeat(120)}`,
    ]) {
      assert.throws(
        () => listenAddress(bad),
        (e: unknown) => typeof e === 'string',
        bad,
      );
    }
  });
});
