// Expiry fires at the next expires_at; one that fails (store locked, disk full) is retried until
// it succeeds, so an address never stays in the map past its time because of one error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreError } from '../../src/core/errors.js';
import type { Store } from '../../src/grants/store.js';
import { ExpiryTimer } from '../../src/daemon/expiry.js';
import { untilDone } from '../../src/daemon/outside.js';
import { memoryLogger } from '../helpers/quiet-logger.js';
import { waitFor } from '../helpers/wait.js';

describe('ExpiryTimer', () => {
  it('retries a failed expiry with backoff until it succeeds, then tells the map', async () => {
    let failures = 3;
    let calls = 0;
    const store = {
      expire: () => {
        calls++;
        if (failures-- > 0) throw new StoreError('db', 'database is locked');
        return ['192.0.2.9'];
      },
      nextExpiry: () => null,
    } as unknown as Store;
    const expired: string[][] = [];
    const { logger, messages } = memoryLogger();
    const t = new ExpiryTimer(store, (ips) => expired.push(ips), logger);
    t.run();
    await waitFor('the expiry to go through', () => expired.length === 1, 5000, 20);
    t.stop();
    assert.equal(calls, 4);
    assert.deepEqual(expired, [['192.0.2.9']]);
    assert.equal(messages.filter((m) => /expiry failed, retrying/.test(m)).length, 3);
  });

  it('fires at the next expiry, and earlier when a grant now ends sooner', async () => {
    let next: number | null = Date.now() + 60_000;
    const fired: number[] = [];
    const store = { expire: () => (fired.push(Date.now()), []), nextExpiry: () => next } as unknown as Store;
    const t = new ExpiryTimer(store, () => {}, memoryLogger().logger);
    t.run();
    assert.equal(fired.length, 1);
    next = null;
    t.expiresBy(Date.now() + 50);
    await waitFor('the earlier expiry', () => fired.length === 2, 2000, 10);
    t.stop();
  });
});

describe('untilDone', () => {
  it('tries again, longer apart, until the attempt succeeds; never after the daemon stops', async () => {
    let calls = 0;
    untilDone(
      () => ++calls >= 3,
      () => false,
    );
    await waitFor('three attempts', () => calls === 3, 3000, 10);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(calls, 3, 'no attempt after success');
    let stopped = false;
    let more = 0;
    untilDone(
      () => {
        more++;
        stopped = true;
        return false;
      },
      () => stopped,
    );
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(more, 1, 'a stopped daemon tries no more');
  });
});
