// The answer to "may this client relay now?", with Postfix's three dictionary outcomes: found,
// not found, or try again later. A failure is never turned into "found".

export type Lookup =
  | { kind: 'found' }
  | { kind: 'notfound' }
  /** The answer cannot be known now (store locked or gone): Postfix must answer 4xx. */
  | { kind: 'tempfail'; why: string };

/** What every live answerer (policy service, socketmap) asks. */
export interface GrantLookup {
  /** `key` as Postfix sent it (client name, address, or a partial key); never throws. */
  lookup(key: string, now: number): Lookup;
}

export const FOUND: Lookup = Object.freeze({ kind: 'found' });
export const NOTFOUND: Lookup = Object.freeze({ kind: 'notfound' });
