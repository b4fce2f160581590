// Builds the daemon's parts from a config: store, grant view, engine, granter, DNSBL and the
// publishers. Everything the config can change on reload is built here too (granterOptions,
// dnsblFrom), so start and reload make the same parts the same way.
import type { Logger } from 'winston';
import type { Config } from '../config/schema.js';
import { Dnsbl } from '../grants/dnsbl.js';
import { loadExclusions, type Exclusions } from '../grants/exclusions.js';
import { Granter, type GranterOptions } from '../grants/granter.js';
import { RateGuard } from '../grants/rate-guard.js';
import { SqliteStore } from '../grants/sqlite-store.js';
import type { Store } from '../grants/store.js';
import { GrantView } from '../grants/view.js';
import type { PendingState } from '../parse/correlate.js';
import { Engine } from '../parse/engine.js';
import { selectParsers } from '../parse/select.js';
import { type Shared, startShared } from '../multihost/wiring.js';
import { MapPublisher } from '../publish/map-publisher.js';
import { PolicyServer } from '../publish/policy-server.js';
import type { Publisher } from '../publish/publisher.js';
import { SocketmapServer } from '../publish/socketmap-server.js';
import { PENDING_KEY } from './pipeline.js';

export interface Parts {
  store: Store;
  view: GrantView;
  exclusions: Exclusions;
  engine: Engine;
  granter: Granter;
  dnsbl: Dnsbl | null;
  publishers: Publisher[];
  /** store = postgresql://…: the outbox, its deliverer, and the shared view the publishers answer from. */
  shared: Shared | null;
}

export function granterOptions(config: Config): GranterOptions {
  const guard = config.brake_rate || config.brake_burst ? new RateGuard({ total: config.brake_rate, perSource: config.brake_burst }) : null;
  return { graceMs: config.grace, maxHoldMs: config.max_hold, guard };
}

export function dnsblFrom(config: Config): Dnsbl | null {
  if (config.dnsbl_zones.length === 0) return null;
  return new Dnsbl({ zones: config.dnsbl_zones, servers: config.dnsbl_servers, timeoutMs: config.dnsbl_timeout, failOpen: config.dnsbl_fail === 'open', cacheMs: config.dnsbl_cache });
}

/** The engine for a config; `previous` hands over the open sessions and held logins (reload). */
export function engineFor(config: Config, previous?: Engine): Engine {
  return new Engine(selectParsers(config.parsers, 'parsers'), previous?.correlator);
}

function publishersFor(config: Config, view: Pick<GrantView, 'lookup' | 'mapText'>, logger: Logger): Publisher[] {
  const out: Publisher[] = [];
  if (config.map) {
    out.push(
      new MapPublisher({
        map: config.map,
        text: (out) => view.mapText(Date.now(), config.map_value, out),
        residentPostmap: true,
        postmapCommand: config.postmap_command,
        postconfCommand: config.postconf_command,
        logger,
      }),
    );
  }
  // Live answers: asked by Postfix per RCPT, from the grant view at request time.
  const live = { allowNonLoopback: config.allow_non_loopback, lookup: view, logger };
  if (config.policy) out.push(new PolicyServer({ ...live, address: config.policy, action: config.policy_action }));
  if (config.socketmap) out.push(new SocketmapServer({ ...live, address: config.socketmap, mapName: config.socketmap_name, value: config.map_value }));
  return out;
}

export async function assemble(config: Config, logger: Logger): Promise<Parts> {
  const exclusions = await loadExclusions(config, logger);
  // A CLI write holding the lock makes a batch fail fast and retry, instead of blocking answers.
  const store = new SqliteStore(config.db, { busyMs: 100, manualCheckpoint: true });
  const view = new GrantView(store, exclusions);
  const shared = await startShared(config, logger);
  const engine = engineFor(config);
  // Open sessions outlive a restart: their logouts must still find their addresses.
  for (const s of store.openSessions()) engine.correlator.openSession(s.key, s);
  // So do logins that waited for a second line or for a veto when popgate stopped.
  const pending = store.getState(PENDING_KEY);
  if (pending) engine.correlator.restore(JSON.parse(pending) as PendingState, Date.now());
  return {
    store,
    view,
    exclusions,
    engine,
    granter: new Granter(store, view, granterOptions(config), logger),
    dnsbl: dnsblFrom(config),
    publishers: publishersFor(config, shared?.view ?? view, logger),
    shared,
  };
}
