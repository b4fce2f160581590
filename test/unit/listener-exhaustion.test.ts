// Connection exhaustion (512 idle connections held for 330 s locked Postfix
// out). With the table full of idle connections a new one is still answered, the one idle
// longest making room; one address cannot hold more than its share; warnings stay few.
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { FOUND } from '../../src/grants/lookup.js';
import type { ListenerLimits } from '../../src/publish/live-listener.js';
import { PolicyServer } from '../../src/publish/policy-server.js';
import { memoryLogger } from '../helpers/quiet-logger.js';
import { waitFor } from '../helpers/wait.js';

const servers: PolicyServer[] = [];
const clients: Socket[] = [];
after(async () => {
  for (const c of clients) c.destroy();
  for (const s of servers) await s.stop();
});

const REQUEST = 'request=smtpd_access_policy\nclient_address=192.0.2.1\n\n';

async function server(limits: Partial<ListenerLimits>) {
  const { logger, messages } = memoryLogger();
  const p = new PolicyServer({ address: { kind: 'inet', host: '127.0.0.1', port: 0 }, allowNonLoopback: false, lookup: { lookup: () => FOUND }, action: 'OK', logger, limits });
  servers.push(p);
  await p.start();
  return { p, messages, port: Number(p.bound().split(':').pop()) };
}

interface Held {
  s: Socket;
  closed: boolean;
  got: string;
}

/** An open connection that tracks whether the server closed it. */
async function hold(port: number, localAddress = '127.0.0.1'): Promise<Held> {
  const s = connect({ host: '127.0.0.1', port, localAddress });
  clients.push(s);
  const state: Held = { s, closed: false, got: '' };
  s.on('close', () => (state.closed = true));
  s.on('error', () => {});
  s.on('data', (d) => (state.got += d.toString('latin1')));
  await new Promise((r) => s.once('connect', r));
  return state;
}

/** Connects, asks once, and resolves with the answer ('' when closed without one). */
async function askOnce(port: number, localAddress = '127.0.0.1'): Promise<string> {
  const c = await hold(port, localAddress);
  c.s.write(REQUEST);
  await waitFor('an answer or a close', () => c.got.endsWith('\n\n') || c.closed, 2000);
  c.s.destroy();
  return c.got;
}

describe('connection exhaustion', () => {
  it('a table full of idle connections: a new connection is answered, the one idle longest is closed', async () => {
    const { p, port, messages } = await server({ maxConnections: 20, maxPerPeer: 100 });
    const idle: Held[] = [];
    for (let i = 0; i < 20; i++) idle.push(await hold(port));
    await waitFor('20 connections', () => p.stats().connections === 20);
    assert.equal(await askOnce(port), 'action=OK\n\n', 'answered although the table was full');
    await waitFor('the oldest closed', () => idle[0]!.closed);
    assert.ok(
      idle.slice(1).every((c) => !c.closed),
      'only the one idle longest was closed',
    );
    // A stream of new connections keeps being answered; the warning is said once, not per connection.
    for (let i = 0; i < 10; i++) assert.equal(await askOnce(port), 'action=OK\n\n');
    assert.equal(messages.filter((m) => /connections open: closed the one idle longest/.test(m)).length, 1, messages.join('\n'));
  });

  it('idle connections go first, the one answered longest ago first; one with a request under way stays', async () => {
    const { port } = await server({ maxConnections: 3 });
    const busy = await hold(port);
    busy.s.write('request=smtpd_access_policy\n'); // begun, not finished
    const older = await hold(port);
    const recent = await hold(port);
    recent.s.write(REQUEST);
    await waitFor('an answer', () => recent.got.endsWith('\n\n'));
    assert.equal(await askOnce(port), 'action=OK\n\n');
    await waitFor('the idle one closed', () => older.closed);
    assert.ok(!busy.closed && !recent.closed);
  });

  it('one address holds at most maxPerPeer; another address keeps its connections', async () => {
    const { p, port, messages } = await server({ maxConnections: 10, maxPerPeer: 3 });
    const other = await hold(port, '127.0.0.1');
    const greedy: Held[] = [];
    for (let i = 0; i < 5; i++) greedy.push(await hold(port, '127.0.0.2'));
    await waitFor('the two oldest of 127.0.0.2 closed', () => greedy[0]!.closed && greedy[1]!.closed);
    assert.ok(greedy.slice(2).every((c) => !c.closed) && !other.closed);
    assert.equal(p.stats().connections, 4);
    assert.ok(
      messages.some((m) => /3 connections from 127\.0\.0\.2: closed the one idle longest/.test(m)),
      messages.join('\n'),
    );
    assert.equal(await askOnce(port, '127.0.0.2'), 'action=OK\n\n');
    assert.ok(!other.closed, 'the other address was never touched');
  });
});
