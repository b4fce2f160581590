// Counts the answers of a live server (policy service, socketmap) by kind, and times them when
// someone listens (the metrics' latency histogram). LiveServer offers no hook for this yet, so its
// `answer` step is wrapped from outside: the request loop and its backpressure stay untouched.
import { LiveServer } from '../publish/live-server.js';
import { PolicyServer } from '../publish/policy-server.js';
import type { Publisher } from '../publish/publisher.js';

export type Answer = 'found' | 'notfound' | 'tempfail' | 'error';
export const ANSWERS: readonly Answer[] = ['found', 'notfound', 'tempfail', 'error'];

export interface LiveCounters {
  kind: 'policy' | 'socketmap';
  name: string;
  server: LiveServer<unknown>;
  answers: Record<Answer, number>;
  /** Set by the metrics: each answer's kind and how long it took (seconds). */
  observe: ((answer: Answer, seconds: number) => void) | null;
}

/** A policy reply `action=X\n\n` (DUNNO: not granted), or none at all (Postfix applies its default: 4xx). */
function policyAnswer(reply: string | null): Answer {
  if (reply === null) return 'tempfail';
  return reply.startsWith('action=DUNNO') ? 'notfound' : 'found';
}

/** A socketmap reply, a netstring `LEN:STATUS data,`. */
function socketmapAnswer(reply: string | null): Answer {
  if (reply === null) return 'tempfail';
  const status = reply.slice(reply.indexOf(':') + 1);
  if (status.startsWith('OK')) return 'found';
  if (status.startsWith('NOTFOUND')) return 'notfound';
  if (status.startsWith('TEMP') || status.startsWith('TIMEOUT')) return 'tempfail';
  return 'error';
}

/** Starts counting the answers of every live server among `publishers`. */
export function countAnswers(publishers: readonly Publisher[]): LiveCounters[] {
  const out: LiveCounters[] = [];
  for (const p of publishers) {
    if (!(p instanceof LiveServer)) continue;
    const kind = p instanceof PolicyServer ? 'policy' : 'socketmap';
    const c: LiveCounters = { kind, name: p.name, server: p, answers: { found: 0, notfound: 0, tempfail: 0, error: 0 }, observe: null };
    const classify = kind === 'policy' ? policyAnswer : socketmapAnswer;
    const target = p as unknown as { answer(request: unknown): string | null };
    const inner = target.answer.bind(p);
    target.answer = (request) => {
      if (!c.observe) {
        const reply = inner(request);
        c.answers[classify(reply)]++;
        return reply;
      }
      const t0 = performance.now();
      const reply = inner(request);
      const answer = classify(reply);
      c.answers[answer]++;
      c.observe(answer, (performance.now() - t0) / 1000);
      return reply;
    };
    out.push(c);
  }
  return out;
}
