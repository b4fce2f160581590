// Log lines for tests that drive the engine the way the daemon does (Engine.read / readAll).
import type { AuthEvent, LogLine } from '../../src/core/types.js';
import type { Engine, Outcome, SourceState } from '../../src/parse/engine.js';

export function logLine(text: string, lineNo = 1, origin = 'test.log', readAt = 0, live = false): LogLine {
  return { text, origin, lineNo, readAt, live };
}

/** Lines numbered from 1, as a file would give them. */
export function logLines(texts: readonly string[], origin = 'test.log'): LogLine[] {
  return texts.map((t, i) => logLine(t, i + 1, origin));
}

/** What one line did and the events it completed (held ones of earlier lines first). */
export function judge(engine: Engine, text: string, state: SourceState, ref: number): Outcome & { events: AuthEvent[] } {
  const v = engine.read(logLine(text), state, ref, true);
  return { ...v.outcome, events: v.events.map((f) => f.event) };
}

/** The events a line completes, through the daemon's own path (prefilter included). */
export function feed(engine: Engine, text: string, state: SourceState, ref: number): AuthEvent[] {
  return engine.read(logLine(text), state, ref).events.map((f) => f.event);
}
