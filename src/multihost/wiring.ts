// The daemon's shared-store parts, from the config: with store = postgresql://…, the outbox is
// switched on and delivered (this host as a writer), and the publishers answer from the shared
// view (this host as a reader). With store = sqlite the outbox is switched off.
import type { Logger } from 'winston';
import type { Config } from '../config/schema.js';
import { Deliverer } from './deliverer.js';
import { Outbox } from './outbox.js';
import { shown } from './pg-connect.js';
import { SharedView } from './shared-view.js';

export interface Shared {
  view: SharedView;
  deliverer: Deliverer;
  outbox: Outbox;
  /** This database's name among the writers. */
  writer: string;
  stop(): Promise<void>;
}

/** Test and bench knobs (environment, not settings: the defaults are what production runs). */
function knob(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

export async function startShared(config: Config, logger: Logger): Promise<Shared | null> {
  if (config.db === ':memory:') return null;
  const outbox = new Outbox(config.db);
  if (!config.store) {
    const dropped = outbox.disable();
    if (dropped) logger.warn(`store = sqlite: ${dropped} change(s) never delivered to the shared store dropped from the outbox`);
    outbox.close();
    return null;
  }
  const url = config.store;
  const writer = outbox.enable();
  // audit_keep as at start: a reload that changes it reaches the shared history at the next restart.
  const deliverer = new Deliverer({ outbox, url, writer, logger, historyKeepMs: config.audit_keep });
  deliverer.start();
  const view = new SharedView({
    url,
    logger,
    resyncMs: knob('POPGATE_PG_RESYNC_MS', 30_000),
    heartbeatMs: knob('POPGATE_PG_HEARTBEAT_MS', 1000),
    staleMs: knob('POPGATE_PG_STALE_MS', 3000),
  });
  if (!(await view.start())) logger.warn(`shared store ${shown(url)}: not reachable yet; live answers are "try again later" until it is`);
  return {
    view,
    deliverer,
    outbox,
    writer,
    async stop() {
      await view.stop();
      await deliverer.stop();
      outbox.close();
    },
  };
}
