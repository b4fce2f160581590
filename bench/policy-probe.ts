// Live answers (policy service or socketmap) timed as Postfix sees them: a separate process (own event loop) asking over one
// connection, back to back. `watch` polls an address until it is granted and reports when the OK
// arrived on CLOCK_MONOTONIC (process.hrtime, shared by every process on the machine), so the
// daemon's commit time can be subtracted. `rtt` times each lookup of a granted address.
import { type ChildProcess, fork } from 'node:child_process';
import { policyClient, socketmapClient } from './probes.js';
import { percentile, round } from './util.js';

type Request = { watch: string } | { rtt: string; ms: number } | { stop: true };
type Reply = { ready: true } | { okAt: string } | { rtt: RttReport } | { error: string };

export interface RttReport {
  lookups: number;
  p50: number;
  p99: number;
  max: number;
}

/** The child: `node policy-probe.js --probe KIND ADDRESS` (KIND policy or socketmap), driven over IPC. */
async function probeMain(kind: string, address: string): Promise<void> {
  const send = (r: Reply) => process.send!(r);
  process.on('message', async (m: Request) => {
    if ('stop' in m) process.exit(0);
    // A connection per command, as Postfix reconnects: the server may have closed an idle one.
    const { ask, close } = kind === 'socketmap' ? await socketmapClient(address, 'popgate') : await policyClient(address);
    try {
      if ('watch' in m) {
        for (let first = true; ; first = false) {
          const ok = await ask(m.watch);
          const at = process.hrtime.bigint();
          if (first) send({ ready: true });
          if (ok) {
            send({ okAt: at.toString() });
            break;
          }
        }
      } else {
        const ms: number[] = [];
        const end = process.hrtime.bigint() + BigInt(m.ms) * 1_000_000n;
        for (let t = process.hrtime.bigint(); t < end; ) {
          if (!(await ask(m.rtt))) throw new Error(`${m.rtt} is not granted`);
          const t1 = process.hrtime.bigint();
          ms.push(Number(t1 - t) / 1e6);
          t = t1;
        }
        send({ rtt: { lookups: ms.length, p50: round(percentile(ms, 50), 3), p99: round(percentile(ms, 99), 3), max: round(Math.max(...ms), 3) } });
      }
    } catch (err) {
      send({ error: String(err) });
    } finally {
      close();
    }
  });
  send({ ready: true });
}

/** The parent's handle on a probe process. */
export class PolicyProbe {
  private waiting: ((r: Reply) => void)[] = [];

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (r: Reply) => this.waiting.shift()?.(r));
  }

  static async start(address: string, kind: 'policy' | 'socketmap' = 'policy'): Promise<PolicyProbe> {
    const p = new PolicyProbe(fork(new URL(import.meta.url).pathname, ['--probe', kind, address], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    await p.next();
    return p;
  }

  private next(): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.waiting.push((r) => ('error' in r ? reject(new Error(r.error)) : resolve(r)));
    });
  }

  /** Starts polling `ip`; resolves once the first answer came back, with the time of the OK to come (hrtime ns; wrapped: an async function would wait for it). */
  async watch(ip: string): Promise<{ ok: Promise<bigint> }> {
    const ready = this.next();
    const ok = this.next().then((r) => BigInt((r as { okAt: string }).okAt));
    this.child.send({ watch: ip } satisfies Request);
    await ready;
    return { ok };
  }

  async rtt(ip: string, ms: number): Promise<RttReport> {
    const r = this.next();
    this.child.send({ rtt: ip, ms } satisfies Request);
    return ((await r) as { rtt: RttReport }).rtt;
  }

  stop(): void {
    this.child.send({ stop: true } satisfies Request);
  }
}

if (process.argv[2] === '--probe') {
  probeMain(process.argv[3]!, process.argv[4]!).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
