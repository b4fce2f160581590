// Postfix's SMTP access policy delegation (check_policy_service): `name=value` lines ended
// by an empty line, many requests per connection (framing: wire/policy-request.ts). A granted
// client_address gets `action=OK` (configurable), anything else `action=DUNNO`. When the answer
// cannot be known the connection is closed without a reply, so Postfix applies its default
// (451 4.3.5): never an OK.
import type { Logger } from 'winston';
import type { GrantLookup, Lookup } from '../grants/lookup.js';
import type { Decoder } from '../wire/decoder.js';
import { PolicyRequestParser, type PolicyRequest, type PolicyRequestLimits } from '../wire/policy-request.js';
import type { ListenerLimits } from './live-listener.js';
import { ask, LiveServer } from './live-server.js';
import { formatListenAddress, type ListenAddress } from './listen-address.js';

export interface PolicyLimits extends ListenerLimits, PolicyRequestLimits {
  /** A request that has begun must end within this time. */
  requestMs: number;
}

export const POLICY_LIMITS: Omit<PolicyLimits, keyof ListenerLimits> = { maxRequestBytes: 16_384, maxAttributes: 100, requestMs: 10_000 };

export interface PolicyServerOptions {
  address: ListenAddress;
  allowNonLoopback: boolean;
  lookup: GrantLookup;
  /** The action for a granted client, `OK` by default. */
  action: string;
  logger: Logger;
  limits?: Partial<PolicyLimits>;
  now?: () => number;
}

export class PolicyServer extends LiveServer<PolicyRequest> {
  readonly name: string;
  private readonly limits: Omit<PolicyLimits, keyof ListenerLimits>;

  constructor(private readonly o: PolicyServerOptions) {
    const limits = { ...POLICY_LIMITS, ...o.limits };
    super({ address: o.address, allowNonLoopback: o.allowNonLoopback, what: 'policy service', logger: o.logger, limits: o.limits }, limits.requestMs);
    this.name = `policy ${formatListenAddress(o.address)}`;
    this.limits = limits;
  }

  protected decoder(): Decoder<PolicyRequest> {
    return new PolicyRequestParser(this.limits);
  }

  /** `action=…` for one request, or null when the answer cannot be known (no answer at all). */
  protected answer({ attrs, duplicates }: PolicyRequest): string | null {
    const client = attrs.get('client_address');
    let r: Lookup = { kind: 'notfound' };
    if (attrs.get('request') !== 'smtpd_access_policy' || duplicates.includes('request')) {
      if (this.o.logger.isDebugEnabled()) this.o.logger.debug(`${this.name}: request=${attrs.get('request') ?? '(none)'} is not smtpd_access_policy: DUNNO`);
    } else if (client === undefined || duplicates.includes('client_address')) {
      this.listener.report('warn', 'client_address', `request with ${client === undefined ? 'no' : 'more than one'} client_address: DUNNO`);
    } else {
      r = ask(this.o.lookup, client, (this.o.now ?? Date.now)());
      if (r.kind === 'tempfail') {
        this.listener.report('error', 'tempfail', `no answer for ${client}, Postfix applies its default (451): ${r.why}`);
        return null;
      }
    }
    const action = r.kind === 'found' ? this.o.action : 'DUNNO';
    if (this.o.logger.isDebugEnabled()) this.o.logger.debug(`${this.name}: ${client ?? '-'} ${attrs.get('protocol_state') ?? ''} → ${action}`);
    return `action=${action}\n\n`;
  }
}
