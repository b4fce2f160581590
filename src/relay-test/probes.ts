// The classic third-party relay probes (the tests public relay checkers made famous): every one
// asks the server to take mail for a domain that is not its own, in some disguise. Outside
// names are reserved for documentation (RFC 2606 example.*, RFC 5737 203.0.113.0/24), so even
// an accepted probe could never reach anybody; and no probe ever gets as far as DATA.

export interface Probe {
  name: string;
  sender: string;
  recipient: string;
}

export interface ProbeContext {
  /** The server's own domain (--local-domain, or the name in its greeting). */
  local: string;
  /** The server's address as an SMTP address literal: `[192.0.2.1]`, `[IPv6:2001:db8::1]`. */
  serverLiteral: string;
}

export const OUTSIDE = 'example.net';
export const OUTSIDE_SENDER = 'relaytest@example.org';
export const OUTSIDE_LITERAL = '[203.0.113.9]';

export function probes({ local: L, serverLiteral: S }: ProbeContext): Probe[] {
  const O = OUTSIDE;
  const FROM = OUTSIDE_SENDER;
  const U = L.toUpperCase();
  const p = (name: string, sender: string, recipient: string): Probe => ({ name, sender, recipient });
  return [
    p('outside to outside', FROM, `relaytest@${O}`),
    p('null sender', '', `relaytest@${O}`),
    p('spoofed local postmaster', `postmaster@${L}`, `relaytest@${O}`),
    p('spoofed local sender', `relaytest@${L}`, `relaytest@${O}`),
    p('unqualified sender', 'relaytest', `relaytest@${O}`),
    p('sender at server literal', `relaytest@${S}`, `relaytest@${O}`),
    p('upper-case recipient', FROM, `RELAYTEST@${O.toUpperCase()}`),
    p('trailing dot', FROM, `relaytest@${O}.`),
    p('percent hack', FROM, `relaytest%${O}@${L}`),
    p('percent hack, upper case', FROM, `RELAYTEST%${O.toUpperCase()}@${U}`),
    p('percent hack at server literal', FROM, `relaytest%${O}@${S}`),
    p('percent hack to IP literal', FROM, `relaytest%${OUTSIDE_LITERAL}@${L}`),
    p('percent hack, unqualified', FROM, `relaytest%${O}`),
    p('double @', FROM, `relaytest@${O}@${L}`),
    p('quoted user@outside', FROM, `"relaytest@${O}"`),
    p('quoted user@outside at local', FROM, `"relaytest@${O}"@${L}`),
    p('quoted user%outside at local', FROM, `"relaytest%${O}"@${L}`),
    p('bang path', FROM, `${O}!relaytest`),
    p('bang path at local', FROM, `${O}!relaytest@${L}`),
    p('bang path at server literal', FROM, `${O}!relaytest@${S}`),
    p('source route', FROM, `@${L}:relaytest@${O}`),
    p('source route via server literal', FROM, `@${S}:relaytest@${O}`),
    p('IP literal recipient', FROM, `relaytest@${OUTSIDE_LITERAL}`),
  ];
}
