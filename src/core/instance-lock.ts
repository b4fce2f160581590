// One daemon per database and per map. The daemon binds an abstract UNIX socket named after the
// path: the kernel frees the name when the process ends, however it ends (kill -9 included),
// and no file is left behind. A second daemon cannot bind it; the CLI finds the running daemon
// by connecting to it, and the daemon answers with its pid. (Abstract sockets live in the
// network namespace: a CLI run in another namespace does not see the daemon.)
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { basename, dirname, resolve } from 'node:path';
import { EXIT, PopgateError } from './errors.js';

/** What a lock guards: a database, or a map that a daemon publishes. */
export type Guarded = 'db' | 'map';

/** The lock's name for a path (the same for every spelling of the path). */
export function lockName(path: string, kind: Guarded = 'db'): string {
  path = resolve(path);
  try {
    path = resolve(realpathSync(dirname(path)), basename(path));
  } catch {
    // The directory does not exist yet: the resolved path names it well enough.
  }
  return `\0popgate-${kind}-${createHash('sha256').update(path).digest('hex').slice(0, 40)}`;
}

export interface Holder {
  pid: number;
  since: number;
  /** What the daemon reports about itself (`popgate status`), when it is asked through the lock. */
  status?: unknown;
}

/** The daemon holding `path`, or null when none runs. */
export function lockHolder(path: string, kind: Guarded = 'db', timeoutMs = 2000): Promise<Holder | null> {
  if (path === ':memory:') return Promise.resolve(null);
  return new Promise((done) => {
    const c = connect(lockName(path, kind));
    let text = '';
    const timer = setTimeout(() => (c.destroy(), done({ pid: 0, since: 0 })), timeoutMs);
    c.setEncoding('utf8');
    c.on('data', (d) => (text += d));
    c.on('end', () => {
      clearTimeout(timer);
      try {
        const h = JSON.parse(text) as Holder;
        done({ pid: Number(h.pid) || 0, since: Number(h.since) || 0, status: h.status });
      } catch {
        done({ pid: 0, since: 0 }); // someone holds the name, even if it says nothing useful
      }
    });
    c.on('error', () => {
      clearTimeout(timer);
      done(null);
    });
  });
}

export class InstanceLock {
  private constructor(private readonly servers: Server[]) {}

  /**
   * Takes the locks of the database and of the map (when there is one), or fails (exit 75)
   * naming the daemon that holds one: two daemons on one map would overwrite each other.
   */
  static async acquire(db: string, map: string | null, status: () => unknown = () => undefined): Promise<InstanceLock> {
    const lock = new InstanceLock([]);
    const wanted: [string, Guarded][] = [[db, 'db'], ...(map ? [[map, 'map'] as [string, Guarded]] : [])];
    for (const [path, kind] of wanted) {
      if (path === ':memory:') continue;
      const server = await bind(lockName(path, kind), status);
      if (server) {
        lock.servers.push(server);
        continue;
      }
      await lock.release();
      const h = await lockHolder(path, kind);
      const what = kind === 'db' ? 'this database' : 'this map';
      throw new PopgateError(
        'STORE',
        path,
        `another popgate daemon uses ${what}${h?.pid ? ` (pid ${h.pid}, running since ${new Date(h.since).toISOString()})` : ''}`,
        `one daemon per ${kind === 'db' ? 'database' : 'map'}: stop the other one (systemctl stop popgate), or give this one its own ${kind}`,
        { exitCode: EXIT.TEMPFAIL },
      );
    }
    return lock;
  }

  async release(): Promise<void> {
    for (const s of this.servers.splice(0)) await new Promise<void>((done) => s.close(() => done()));
  }
}

/** Binds the name, or null when another process holds it. Each connection gets the holder's pid and status. */
async function bind(name: string, status: () => unknown): Promise<Server | null> {
  const since = Date.now();
  const server = createServer((s) => {
    let report: unknown;
    try {
      report = status();
    } catch (err) {
      report = { error: String(err) };
    }
    s.end(JSON.stringify({ pid: process.pid, since, status: report }));
  });
  const bound = await new Promise<boolean>((ok, fail) => {
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? ok(false) : fail(err)));
    server.listen(name, () => ok(true));
  });
  if (!bound) return null;
  server.unref();
  return server;
}
