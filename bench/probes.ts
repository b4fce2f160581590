// Ways to ask whether an address is granted, as Postfix would: `postmap -q` on the published
// map, the policy service (check_policy_service) and the socketmap, over persistent connections.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { basename, dirname } from 'node:path';
export { freePort } from '../test/helpers/ports.js';

export function postmapQuery(ip: string, mapPath: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('postmap', ['-q', ip, `hash:${mapPath}`], (err, stdout) => resolve(err ? null : String(stdout).trim()));
  });
}

/**
 * `postmap -q` run by a small shell that stays up, so each query costs what it costs from a
 * shell (fork of sh, exec of postmap), not a fork of this Node process.
 */
export class PostmapAsker {
  private readonly sh: ChildProcessWithoutNullStreams;
  private buf = '';
  private waiting: ((value: string | null) => void) | null = null;

  constructor(mapPath: string) {
    this.sh = spawn('sh', ['-c', 'while IFS= read -r ip; do postmap -q "$ip" "$1"; echo "=$?"; done', 'sh', `hash:${mapPath}`]);
    this.sh.stdout.on('data', (d: Buffer) => {
      this.buf += d.toString();
      const m = /(?:^|\n)=(\d+)\n$/.exec(this.buf);
      if (!m || !this.waiting) return;
      const value = m[1] === '0' ? this.buf.slice(0, m.index).trim() : null;
      this.buf = '';
      const w = this.waiting;
      this.waiting = null;
      w(value);
    });
  }

  ask(ip: string): Promise<string | null> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.sh.stdin.write(`${ip}\n`);
    });
  }

  close(): void {
    this.sh.stdin.end();
    this.sh.kill();
  }
}

/** Resolves on the next rename of the built map into place (or after `timeoutMs`). */
export class MapWatch {
  private readonly watcher: FSWatcher;
  private waiters: (() => void)[] = [];

  constructor(mapPath: string) {
    const built = `${basename(mapPath)}.db`;
    this.watcher = watch(dirname(mapPath), (_ev, file) => {
      if (file !== built) return;
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    });
  }

  next(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  close(): void {
    this.watcher.close();
  }
}

/** One persistent client connection that sends a request and reads one reply at a time. */
export class LineClient {
  private buf = '';
  private pending: ((reply: string) => void) | null = null;
  private constructor(
    private readonly socket: Socket,
    private readonly complete: (buf: string) => number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      const end = this.complete(this.buf);
      if (end > 0 && this.pending) {
        const reply = this.buf.slice(0, end);
        this.buf = this.buf.slice(end);
        const p = this.pending;
        this.pending = null;
        p(reply);
      }
    });
  }

  static open(address: string, complete: (buf: string) => number): Promise<LineClient> {
    const m = /^inet:(?:\[(.+)\]|([^:]+)):(\d+)$/.exec(address);
    return new Promise((resolve, reject) => {
      const s = m ? connect({ host: m[1] ?? m[2]!, port: Number(m[3]) }) : connect(address.replace(/^unix:/, ''));
      s.once('connect', () => resolve(new LineClient(s, complete)));
      s.once('error', reject);
    });
  }

  ask(request: string): Promise<string> {
    return new Promise((resolve) => {
      this.pending = resolve;
      this.socket.write(request);
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Postfix policy delegation: does the service answer action=OK for this client? */
export async function policyOpen(address: string): Promise<(ip: string) => Promise<boolean>> {
  return (await policyClient(address)).ask;
}

/** A policy client that can be closed: asks whether `ip` gets action=OK. */
export async function policyClient(address: string): Promise<{ ask: (ip: string) => Promise<boolean>; close: () => void }> {
  const c = await LineClient.open(address, (b) => {
    const i = b.indexOf('\n\n');
    return i < 0 ? 0 : i + 2;
  });
  const ask = async (ip: string) => {
    const reply = await c.ask(`request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=${ip}\nclient_name=unknown\n\n`);
    return reply.startsWith('action=OK');
  };
  return { ask, close: () => c.close() };
}

/** socketmap_table(5): netstring `popgate IP` → `OK …` or `NOTFOUND `. */
export async function socketmapOpen(address: string, mapName: string): Promise<(ip: string) => Promise<boolean>> {
  return (await socketmapClient(address, mapName)).ask;
}

/** A socketmap client that can be closed: asks whether `ip` gets OK. */
export async function socketmapClient(address: string, mapName: string): Promise<{ ask: (ip: string) => Promise<boolean>; close: () => void }> {
  const c = await LineClient.open(address, (b) => {
    const colon = b.indexOf(':');
    if (colon < 0) return 0;
    const end = colon + 1 + Number(b.slice(0, colon)) + 1;
    return b.length >= end ? end : 0;
  });
  const ask = async (ip: string) => {
    const q = `${mapName} ${ip}`;
    const reply = await c.ask(`${Buffer.byteLength(q)}:${q},`);
    return /^\d+:OK/.test(reply);
  };
  return { ask, close: () => c.close() };
}
