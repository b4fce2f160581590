// A writer as the daemon wires it, without the daemon: a SQLite store with its outbox switched on
// and a deliverer sending it to a shared store; for the PostgreSQL tests that drive grant changes
// by hand and wait for them to arrive.
import { join } from 'node:path';
import { SqliteStore } from '../../src/grants/sqlite-store.js';
import { Deliverer, type DelivererOptions } from '../../src/multihost/deliverer.js';
import { Outbox } from '../../src/multihost/outbox.js';
import { memoryLogger } from './quiet-logger.js';
import { waitFor } from './wait.js';

export interface Writer {
  store: SqliteStore;
  outbox: Outbox;
  deliverer: Deliverer;
  /** Its name in the shared store (host/tag). */
  name: string;
  messages: string[];
  close(): Promise<void>;
}

const FAST = { connectMs: 1000, queryMs: 1000 };
let n = 0;

/** A writer on a new database in `dir` (or at `path`), delivering to `url`. */
export function startWriter(url: string, dir: string, opts: Partial<DelivererOptions> & { path?: string } = {}): Writer {
  const path = opts.path ?? join(dir, `w${process.pid}-${n++}.sqlite`);
  const store = new SqliteStore(path);
  const outbox = new Outbox(path);
  const name = outbox.enable();
  const { logger, messages } = memoryLogger();
  const deliverer = new Deliverer({ outbox, url, writer: name, logger, timeouts: FAST, idleMs: 20, ...opts });
  deliverer.start();
  return { store, outbox, deliverer, name, messages, close: async () => (await deliverer.stop(), outbox.close(), store.close()) };
}

/** Waits until everything `w` queued reached the shared store. */
export async function delivered(w: Writer): Promise<void> {
  await waitFor('the outbox to empty', () => w.outbox.size() === 0, 10_000).catch((err: Error) => {
    throw new Error(`${err.message}; last delivery error: ${w.deliverer.lastError}`);
  });
}
