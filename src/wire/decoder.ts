// The shape every wire decoder has: bytes are pushed as they arrive and frames are pulled one at
// a time, so a server can stop pulling while its answers are not drained (backpressure).

export type Frame<T> = { kind: 'frame'; value: T } | { kind: 'more' } | { kind: 'error'; why: string };

export interface Decoder<T> {
  push(chunk: Buffer): void;
  /** The next whole frame; `more` when the bytes so far hold none; an error stays. */
  next(): Frame<T>;
  /** True when no frame is begun: no byte of an unfinished one is held. */
  readonly idle: boolean;
}

export const MORE: Frame<never> = Object.freeze({ kind: 'more' });
