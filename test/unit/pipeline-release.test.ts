// Held logins the clock releases (Cyrus popminpoll) must not be lost when their commit fails
// (another process holds the database): they wait again and are granted at the next tick.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PARSERS } from '../../parsers/index.js';
import { Pipeline } from '../../src/daemon/pipeline.js';
import { StoreError } from '../../src/core/errors.js';
import { Exclusions } from '../../src/grants/exclusions.js';
import { Granter } from '../../src/grants/granter.js';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { GrantView } from '../../src/grants/view.js';
import { Engine } from '../../src/parse/engine.js';
import { logLine } from '../helpers/lines.js';
import { memoryLogger } from '../helpers/quiet-logger.js';
import { waitFor } from '../helpers/wait.js';

describe('Pipeline.release', () => {
  it('a release whose commit fails holds the logins again; the next one grants them', async () => {
    const store = new SqliteStore(':memory:');
    const { logger } = memoryLogger();
    const view = new GrantView(store, new Exclusions([], []));
    const pipeline = new Pipeline(store, new Granter(store, view, { graceMs: 1_800_000, maxHoldMs: 3_600_000 }, logger), new Engine(PARSERS), null, logger);
    const stamp = new Date().toISOString().replace('Z', '+00:00');
    const line = { ...logLine(`${stamp} mx cyrus/pop3[4300]: login: [198.51.100.95] alice plaintext User logged in SESSIONID=<mx-4300-1>`), readAt: Date.now(), live: true };
    await pipeline.handle('mail.log', { syslog: null }, [line], null);
    assert.deepEqual(store.activeIps(Date.now()), [], 'held, not granted yet');
    const real = store.transaction.bind(store);
    let fail = true;
    store.transaction = <T>(fn: () => T): T => {
      if (fail) throw new StoreError('db', 'database is locked');
      return real(fn);
    };
    await waitFor(
      'the release to be tried and fail',
      async () =>
        pipeline.release().then(
          () => false,
          () => true,
        ),
      4000,
      50,
    );
    fail = false;
    await pipeline.release();
    assert.deepEqual(store.activeIps(Date.now()), ['198.51.100.95'], 'granted at the next release, not lost');
  });
});
