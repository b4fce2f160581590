// Connections to the shared store: every pg timeout set (node-postgres sets none by default, and
// a hung server must turn into an error, never into a wait), credentials only from libpq's own
// places (PGPASSWORD, PGPASSFILE, ~/.pgpass), TLS from the URL's sslmode/sslrootcert/… as given.
import { hostname } from 'node:os';
import type pg from 'pg';
import { describe, StoreError } from '../core/errors.js';
import { passwordFor, targetOf } from './pgpass.js';

export interface Timeouts {
  /** Opening a connection, TLS included. */
  connectMs: number;
  /** One query, on the client (query_timeout) and on the server (statement_timeout). */
  queryMs: number;
}

export const DEFAULT_TIMEOUTS: Timeouts = { connectMs: 3000, queryMs: 5000 };

/** The URL as shown in messages: it never holds a password (the config refuses one). */
export function shown(url: string): string {
  return url.replace(/\?.*$/, '');
}

export function clientConfig(url: string, t: Timeouts, role: string): pg.ClientConfig {
  const target = targetOf(url);
  return {
    connectionString: url,
    // Read at each connection: a password file changed meanwhile is picked up.
    password: () => passwordFor(target) ?? '',
    connectionTimeoutMillis: t.connectMs,
    query_timeout: t.queryMs,
    statement_timeout: t.queryMs,
    lock_timeout: t.queryMs,
    idle_in_transaction_session_timeout: 2 * t.queryMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 1000,
    application_name: `popgate ${role} ${hostname()}`.slice(0, 63),
  };
}

/** Opens one client; a failure is a StoreError naming the store and the likely fix. */
export async function connectPg(url: string, t: Timeouts, role: string): Promise<pg.Client> {
  const config = clientConfig(url, t, role);
  // Loaded only with a shared store: node-postgres costs ~16 MB of resident memory.
  const { default: pgm } = await import('pg');
  const client = new pgm.Client(config);
  // The URL's (empty) password wins over the config's in pg 8: set the function again.
  (client as unknown as { password: unknown }).password = config.password;
  // An error on an idle client (server gone) must not crash the process: the next query fails.
  client.on('error', () => {});
  try {
    await client.connect();
    return client;
  } catch (err) {
    drop(client);
    throw pgError(url, 'cannot connect', err);
  }
}

/** Ends a client at once, also when the server hangs (end() would wait for its answer). */
export function drop(client: pg.Client | null): void {
  if (!client) return;
  client.end().catch(() => {});
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

/** Runs `fn` in one transaction on `client`; rolled back on any error. */
export async function inTransaction<T>(client: pg.Client, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const out = await fn();
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

export function pgError(url: string, what: string, err: unknown): StoreError {
  const text = describe(err);
  const code = (err as { code?: string }).code;
  let hint = 'check that PostgreSQL runs and that this host may connect (pg_hba.conf, firewall)';
  if (code === '28P01' || /password/i.test(text)) hint = 'put the password in ~/.pgpass (mode 0600) or the file PGPASSFILE names; never in the URL';
  else if (code === '3D000') hint = 'create the database (createdb -O OWNER DB) or fix the URL';
  else if (code === '42501') hint = 'grant this role the rights popgate needs (popgate store migrate --reader ROLE grants SELECT)';
  else if (/timeout|timed out/i.test(text)) hint = 'PostgreSQL did not answer in time: is it overloaded, stopped or unreachable?';
  return new StoreError(shown(url), `${what} (${text})`, hint, err);
}
