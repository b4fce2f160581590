// Is popgate where Postfix asks it, in a place where its OK lifts the relay refusal?
// Measured on Postfix 3.7: the grant must sit in the list that holds the
// relay check, before it and before any rule that already rejects; an OK elsewhere ends only
// that list. With an empty smtpd_relay_restrictions the pre-2.10 recipient list is the place.
import { error, ok, warning, type Finding } from './finding.js';
import { RESTRICTION_LISTS, type PostfixView, type SmtpdService } from './postfix-view.js';
import { before, firstRelayCheck, render, restrictions, withOurs, type Restriction } from './restrictions.js';
import { looksLikePopgate, type Target } from './targets.js';

type ListName = (typeof RESTRICTION_LISTS)[number];

/** The exact line(s) that put `list` in place for this service. */
export function fixLines(s: SmtpdService, name: ListName, list: readonly Restriction[]): string[] {
  const text = list.map(render);
  if (s.overrides.has(name)) {
    // A master.cf -o value has no white space: commas between the rule and its table too.
    const compact = list.map((r) => (r.arg !== null && r.options.length === 0 ? `${r.name},${r.arg}` : render(r))).join(',');
    return [`master.cf ${s.name}: -o ${name}=${compact}`, `(or run: postconf -P '${s.name}/${name}=${compact}')`];
  }
  return [`main.cf: ${name} = ${text.join(', ')}`, `(or run: postconf -e '${name} = ${text.join(', ')}')`];
}

/** A Postfix time value (`100s`, `5m`, `100`) in seconds. */
export function postfixSeconds(v: string): number | null {
  const m = /^(\d+)([smhdw]?)$/.exec(v.trim());
  if (!m) return null;
  return Number(m[1]) * ({ '': 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 } as Record<string, number>)[m[2]!]!;
}

function failOpen(option: string): boolean {
  return /^default_action\s*=\s*(ok|permit)/i.test(option);
}

function checkService(pf: PostfixView, s: SmtpdService, ts: readonly Target[], placed: Set<Target>, seen: Set<Target>): Finding[] {
  const out: Finding[] = [];
  const lists = new Map(RESTRICTION_LISTS.map((n) => [n, restrictions(pf.value(s, n))] as const));
  const relay = lists.get('smtpd_relay_restrictions')!;
  const recipient = lists.get('smtpd_recipient_restrictions')!;
  // Where the relay refusal is decided: the relay list when it holds a relay check, else the recipient list.
  const home: ListName = firstRelayCheck(relay) >= 0 ? 'smtpd_relay_restrictions' : 'smtpd_recipient_restrictions';
  for (const [n, list] of lists) {
    for (const r of list) {
      if (looksLikePopgate(r) && !ts.some((t) => t.matches(r))) {
        out.push(
          error(
            pf.source(s, n),
            `${render(r)} looks like popgate's but popgate serves nothing there (${ts.map((t) => t.setting).join('; ') || 'no map, policy or socketmap set'})`,
            "make it name what popgate's config says, or remove it",
          ),
        );
      }
    }
  }
  for (const t of ts) {
    const found = [...lists].flatMap(([n, list]) => list.map((r, i) => ({ n, r, i })).filter((x) => t.matches(x.r)));
    if (found.length === 0) continue;
    seen.add(t);
    const label = render(t.restriction);
    let good = true;
    for (const f of found) {
      const why = t.problem(f.r, s.chroot, pf.queueDirectory);
      if (why) {
        good = false;
        out.push(error(pf.source(s, f.n), why, `name it ${t.restriction.arg}`));
      }
      const open = f.r.options.find(failOpen);
      if (open) {
        good = false;
        out.push(error(pf.source(s, f.n), `${open} makes Postfix relay for everybody while popgate is down`, 'remove default_action (the default 451 fails closed)'));
      }
    }
    const list = lists.get(home)!;
    const inHome = found.find((f) => f.n === home);
    if (!inHome) {
      const elsewhere = found[0]!;
      out.push(
        error(
          pf.source(s, elsewhere.n),
          `${label} is only in ${elsewhere.n}, while ${home} holds the relay check: an OK there ends only ${elsewhere.n} and does not lift the refusal (measured on Postfix 3.7)`,
          `put it in ${home} before ${list[firstRelayCheck(list)]?.name ?? 'reject_unauth_destination'}`,
          fixLines(s, home, withOurs(list, t.restriction, t.matches)),
        ),
      );
      continue;
    }
    const { final, rejecting } = before(list, inHome.i);
    if (final.length) {
      out.push(
        error(
          pf.source(s, home),
          `${label} comes after ${final.map(render).join(', ')}: ${final.some((r) => r.name === 'permit') ? 'every client relays before popgate is asked' : 'the refusal is decided before popgate is asked'}`,
          'move it before the relay check',
          fixLines(s, home, withOurs(list, t.restriction, t.matches)),
        ),
      );
      continue;
    }
    if (rejecting.length) {
      out.push(
        warning(pf.source(s, home), `${label} comes after ${rejecting.map(render).join(', ')}, which may refuse a client that just logged in`, 'move popgate before them if POP/IMAP users hit them'),
      );
    }
    if (home === 'smtpd_relay_restrictions' && firstRelayCheck(recipient) >= 0) {
      const at = recipient.findIndex((r) => t.matches(r));
      if (at < 0 || at > firstRelayCheck(recipient)) {
        good = false;
        out.push(
          error(
            pf.source(s, 'smtpd_recipient_restrictions'),
            `also refuses relay (${recipient[firstRelayCheck(recipient)]!.name}), and both lists must pass: a granted client is refused there`,
            `add ${label} there too, before the relay check, or drop the relay check from ${'smtpd_recipient_restrictions'}`,
            fixLines(s, 'smtpd_recipient_restrictions', withOurs(recipient, t.restriction, t.matches)),
          ),
        );
      }
    }
    if (good) {
      placed.add(t);
      out.push(ok(pf.source(s, home), `${label} is asked before the relay check`));
    }
  }
  return out;
}

export function checkWiring(pf: PostfixView, ts: readonly Target[]): Finding[] {
  const placed = new Set<Target>();
  const seen = new Set<Target>();
  const out = pf.services.flatMap((s) => checkService(pf, s, ts, placed, seen));
  for (const t of ts) {
    if (placed.has(t) || seen.has(t)) continue;
    const main = { name: 'main.cf', chroot: true, overrides: new Map<string, string>() };
    const relay = restrictions(pf.main('smtpd_relay_restrictions'));
    const home: ListName = firstRelayCheck(relay) >= 0 ? 'smtpd_relay_restrictions' : 'smtpd_recipient_restrictions';
    out.push(
      error(
        `main.cf: ${home}`,
        `popgate's ${t.kind} (${t.setting}) is not asked by any smtpd service: Postfix never sees its grants`,
        `add ${render(t.restriction)} before the relay check`,
        fixLines(main, home, withOurs(restrictions(pf.main(home)), t.restriction, t.matches)),
      ),
    );
  }
  if (ts.some((t) => t.kind === 'policy') && /^\s*(ok|permit)/i.test(pf.main('smtpd_policy_service_default_action'))) {
    out.push(
      error(
        'main.cf: smtpd_policy_service_default_action',
        `${pf.main('smtpd_policy_service_default_action')} makes Postfix relay for everybody while popgate is down`,
        'remove it: the default (451 4.3.5) fails closed',
      ),
    );
  }
  const timeout = postfixSeconds(pf.main('smtpd_policy_service_timeout'));
  if (ts.some((t) => t.kind === 'policy' && placed.has(t)) && timeout !== null && timeout > 30) {
    out.push(
      warning('main.cf: smtpd_policy_service_timeout', `${timeout}s: a hung popgate would hold every RCPT for ${2 * timeout + 1}s before the 451`, 'set it to 10s', [
        'main.cf: smtpd_policy_service_timeout = 10s',
      ]),
    );
  }
  if (ts.length === 0) out.push(error('popgate config', 'map, policy and socketmap are all none: Postfix can learn no grant', 'set one of them'));
  return out;
}
