// Reads lines from standard input (`--log -`): every line is live, nothing is checkpointed.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { LogLine } from '../core/types.js';
import type { BatchHandler, Source } from './source.js';

export class StreamSource implements Source {
  readonly name: string;
  private readonly input: Readable;
  private done: Promise<void> | null = null;
  private closeInput: (() => void) | null = null;

  constructor(input: Readable, name = '-') {
    this.input = input;
    this.name = name;
  }

  async start(handler: BatchHandler): Promise<void> {
    const rl = createInterface({ input: this.input, crlfDelay: Infinity });
    this.closeInput = () => rl.close();
    let lineNo = 0;
    this.done = (async () => {
      for await (const text of rl) {
        lineNo++;
        const line: LogLine = { text, origin: this.name, lineNo, readAt: Date.now(), live: true };
        // One line at a time: a pipe delivers lines as they are written.
        for (let attempt = 0; ; attempt++) {
          try {
            await handler([line], null);
            break;
          } catch {
            await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
          }
        }
      }
    })();
  }

  reopen(): void {}

  async stop(): Promise<void> {
    this.closeInput?.();
    await this.done?.catch(() => {});
  }
}
