// The warning for dropped overlong lines, shared by every reader: said at once, then at most
// once a minute with the count, so a stream of huge lines cannot flood the log.
import type { Logger } from 'winston';
import { Throttle } from '../wire/throttle.js';
import { MAX_LINE_BYTES, type DropSink } from './line-splitter.js';

export function dropWarning(name: string, logger: Logger | undefined, now: () => number): DropSink {
  const throttle = new Throttle();
  return (lineNo, bytes) => {
    const n = throttle.hit(now());
    if (n) logger?.warn(`${name}: line ${lineNo} (${bytes} bytes) dropped: longer than ${MAX_LINE_BYTES} bytes${n > 1 ? ` (${n} such lines since the last warning)` : ''}`);
  };
}
