// The registry of parsers: adding a server means adding its file here and its samples beside it.
import type { ParserSpec } from '../src/parse/spec.js';
import { courier } from './courier.js';
import { cyrus } from './cyrus.js';
import { dovecot } from './dovecot.js';
import { mailutils } from './mailutils.js';
import { popa3d } from './popa3d.js';
import { solidpop3d } from './solidpop3d.js';
import { uw } from './uw.js';
import { qpopper } from './qpopper.js';
import { vchkpw } from './vchkpw.js';
import { vmpop3d } from './vmpop3d.js';
import { perdition } from './perdition.js';
import { teapop } from './teapop.js';
import { cucipop } from './cucipop.js';
import { apple } from './apple.js';

export const PARSERS: readonly ParserSpec[] = [dovecot, courier, cyrus, mailutils, popa3d, solidpop3d, uw, qpopper, vchkpw, vmpop3d, perdition, teapop, cucipop, apple];

export function parserNames(): string[] {
  return PARSERS.map((p) => p.name);
}

export function findParsers(names: readonly string[]): ParserSpec[] {
  return names.map((n) => {
    const p = PARSERS.find((s) => s.name === n);
    if (!p) throw new Error(`unknown parser "${n}" (known: ${parserNames().join(', ')})`);
    return p;
  });
}
