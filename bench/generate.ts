// Seeded, deterministic mail log generator for the benchmarks: mostly Postfix noise, 3–5 %
// Dovecot login-process lines (successes, auth failures, aborted logins) in the exact forms
// of parsers/dovecot.samples, the sessions' ends a little later, IPv4 and IPv6 clients.
import { closeSync, openSync, writeSync } from 'node:fs';

export type StampFormat = 'rfc3164' | 'rfc3339';

export interface GeneratorOptions {
  seed: number;
  /** Distinct client addresses that log in. */
  clients: number;
  format: StampFormat;
  /** Share of lines written by Dovecot login processes (successes, failures, aborts). */
  loginShare?: number;
  /** Share of clients with an IPv6 address; a few more log in as `::ffff:a.b.c.d`. */
  ipv6Share?: number;
  host?: string;
  /**
   * Zipf exponent of how often each client logs in (0: all alike). Above 1 a few addresses (a
   * NAT gateway, a webmail front end) log in most of the time and hold hundreds of open sessions.
   */
  zipf?: number;
  /** A session ends up to this many lines after its login (longer: more sessions open at once). */
  sessionLines?: number;
}

export interface GeneratorStats {
  lines: number;
  logins: number;
  logouts: number;
  failures: number;
  aborts: number;
  /** Canonical addresses that logged in successfully at least once. */
  grantedIps: Set<string>;
  /** Each of those addresses' last login (the stamp given to line(), ms). */
  lastLoginAt: Map<string, number>;
}

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const HEXQ = '0123456789ABCDEF';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DOMAINS = ['example.org', 'example.net', 'example.com', 'mail.example.org', 'lists.example.net'];
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];
const p2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** Client address number `i`: IPv4 in 100.64.0.0/10, IPv6 in 2001:db8::/32, as Dovecot writes them. */
export function clientIp(i: number, v6: boolean): string {
  if (v6) return `2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::${((i * 2654435761) >>> 20).toString(16)}`;
  return `100.${64 + ((i >>> 16) & 63)}.${(i >>> 8) & 255}.${i & 255}`;
}

export class LogGenerator {
  readonly stats: GeneratorStats = { lines: 0, logins: 0, logouts: 0, failures: 0, aborts: 0, grantedIps: new Set(), lastLoginAt: new Map() };
  /** The stamp of the line being made. */
  private lineMs = 0;
  private readonly r: () => number;
  private readonly o: Required<GeneratorOptions>;
  /** Lines due at a later line number: session ends, the second line of a failed login. */
  private readonly pending = new Map<number, { text: string; logout: boolean }[]>();
  private stampSecond = -1;
  private stampText = '';
  private pid = 20000;

  constructor(options: GeneratorOptions) {
    this.o = { loginShare: 0.04, ipv6Share: 0.3, host: 'mx1', zipf: 0, sessionLines: 2000, ...options };
    this.r = rng(options.seed);
    if (this.o.zipf > 0) {
      let sum = 0;
      this.cumulative = Array.from({ length: this.o.clients }, (_, k) => (sum += 1 / (k + 1) ** this.o.zipf));
    }
  }

  /** Zipf: the running sums of the clients' weights, searched with a uniform draw. */
  private cumulative: number[] | null = null;

  private clientNumber(): number {
    const c = this.cumulative;
    if (!c) return this.int(this.o.clients);
    const x = this.r() * c[c.length - 1]!;
    let lo = 0;
    let hi = c.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (c[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private int(n: number): number {
    return Math.floor(this.r() * n);
  }

  private pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }

  private id(n: number, alphabet = B64): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }

  private nextPid(): number {
    this.pid = this.pid >= 4_000_000 ? 20000 : this.pid + 1 + this.int(7);
    return this.pid;
  }

  private stamp(ms: number): string {
    const sec = Math.floor(ms / 1000);
    if (this.o.format === 'rfc3339') {
      const micro = String(Math.floor((ms % 1000) * 1000) + this.int(1000)).padStart(6, '0');
      if (sec !== this.stampSecond) {
        this.stampSecond = sec;
        this.stampText = new Date(sec * 1000).toISOString().slice(0, 19);
      }
      return `${this.stampText}.${micro}+00:00`;
    }
    if (sec !== this.stampSecond) {
      const d = new Date(sec * 1000);
      this.stampSecond = sec;
      this.stampText = `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
    }
    return this.stampText;
  }

  private client(): { ip: string; canonical: string; lip: string } {
    const i = this.clientNumber();
    const v6 = (i * 7919) % 1000 < this.o.ipv6Share * 1000;
    const ip = clientIp(i, v6);
    // Dual-stack listeners log IPv4 clients as ::ffff:a.b.c.d; the map holds a.b.c.d.
    if (!v6 && i % 10 === 0) return { ip: `::ffff:${ip}`, canonical: ip, lip: '::ffff:192.0.2.1' };
    return { ip, canonical: ip, lip: v6 ? '2001:db8:ffff::1' : '192.0.2.1' };
  }

  private later(at: number, text: string, logout: boolean): void {
    const list = this.pending.get(at);
    if (list) list.push({ text, logout });
    else this.pending.set(at, [{ text, logout }]);
  }

  private postfix(): string {
    const q = this.id(10, HEXQ);
    const pid = 1000 + this.int(9000);
    const c = `${this.pick(['unknown', 'mail.example.net', 'smtp.example.com', 'mx.example.org'])}[203.0.113.${this.int(256)}]`;
    const from = `${this.pick(USERS)}@${this.pick(DOMAINS)}`;
    const to = `${this.pick(USERS)}@${this.pick(DOMAINS)}`;
    const d = () => (this.r() * 2).toFixed(2);
    switch (this.int(12)) {
      case 0:
        return `postfix/smtpd[${pid}]: connect from ${c}`;
      case 1:
        return `postfix/smtpd[${pid}]: ${q}: client=${c}`;
      case 2:
        return `postfix/cleanup[${pid}]: ${q}: message-id=<${this.id(14, HEXQ)}.${q}@${this.pick(DOMAINS)}>`;
      case 3:
        return `postfix/qmgr[${pid}]: ${q}: from=<${from}>, size=${1000 + this.int(90000)}, nrcpt=1 (queue active)`;
      case 4:
        return `postfix/smtp[${pid}]: ${q}: to=<${to}>, relay=mx.${this.pick(DOMAINS)}[198.51.100.${this.int(256)}]:25, delay=${d()}, delays=0.1/0.01/0.2/${d()}, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as ${this.id(10, HEXQ)})`;
      case 5:
        return `postfix/local[${pid}]: ${q}: to=<${to}>, relay=local, delay=${d()}, delays=0.05/0.01/0/0.02, dsn=2.0.0, status=sent (delivered to mailbox)`;
      case 6:
        return `postfix/qmgr[${pid}]: ${q}: removed`;
      case 7:
        return `postfix/smtpd[${pid}]: disconnect from ${c} ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5`;
      case 8:
        return `postfix/smtpd[${pid}]: NOQUEUE: reject: RCPT from ${c}: 554 5.7.1 <${to}>: Relay access denied; from=<${from}> to=<${to}> proto=ESMTP helo=<${this.pick(DOMAINS)}>`;
      case 9:
        return `postfix/smtpd[${pid}]: lost connection after AUTH from ${c}`;
      case 10:
        return `dovecot: lmtp(${pid}): Connect from local`;
      default:
        return `postfix/anvil[${pid}]: statistics: max connection rate 1/60s for (smtp:203.0.113.${this.int(256)}) at Nov 25 16:20:00`;
    }
  }

  /** One Dovecot login-process line; a success schedules its session's end. */
  private dovecot(lineNo: number): string {
    const { ip, canonical, lip } = this.client();
    const proto = this.r() < 0.6 ? 'imap' : 'pop3';
    const user = this.pick(USERS);
    const session = this.id(16);
    const roll = this.r();
    if (roll < 0.6) {
      const mpid = this.nextPid();
      this.stats.logins++;
      this.stats.grantedIps.add(canonical);
      this.stats.lastLoginAt.set(canonical, this.lineMs);
      const tail = proto === 'pop3' ? 'top=0/0, retr=1/345, del=0/1, size=329' : 'in=45 out=844 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0';
      const how = this.r() < 0.8 ? 'Logged out' : 'Connection closed';
      this.later(lineNo + 20 + this.int(this.o.sessionLines), `dovecot: ${proto}(${user})<${mpid}><${session}>: Disconnected: ${how} ${tail}`, true);
      const tls = this.r() < 0.5 ? ', TLS' : '';
      return `dovecot: ${proto}-login: Login: user=<${user}>, method=${this.r() < 0.8 ? 'PLAIN' : 'LOGIN'}, rip=${ip}, lip=${lip}, mpid=${mpid}${tls}, session=<${session}>`;
    }
    if (roll < 0.85) {
      this.stats.failures++;
      const secs = this.int(3);
      this.later(
        lineNo + 1,
        `dovecot: ${proto}-login: Disconnected: Aborted login by logging out (auth failed, 1 attempts in ${secs} secs): user=<${user}>, method=PLAIN, rip=${ip}, lip=${lip}, session=<${session}>`,
        false,
      );
      return `dovecot: auth: passwd-file(${user},${canonical},<${session}>): Password mismatch`;
    }
    this.stats.aborts++;
    const how = this.r() < 0.5 ? 'Connection closed' : 'Aborted login by logging out';
    return `dovecot: ${proto}-login: Disconnected: ${how} (no auth attempts in 0 secs): user=<>, rip=${ip}, lip=${lip}, session=<${session}>`;
  }

  /** A successful login of one of the `clients` (number `i`), in the form line() writes them. */
  clientLogin(ms: number, i: number): string {
    const v6 = (i * 7919) % 1000 < this.o.ipv6Share * 1000;
    return `${this.stamp(ms)} ${this.o.host} dovecot: imap-login: Login: user=<alice>, method=PLAIN, rip=${clientIp(i, v6)}, lip=192.0.2.1, mpid=${this.nextPid()}, session=<${this.id(16)}>`;
  }

  /** A successful login of client number `i` (its own address, not one of the `clients`), stamped `ms`. */
  loginLine(ms: number, i: number, v6: boolean): string {
    return this.session(ms, i, v6).login;
  }

  /** A login of client `i` and the line that ends its session (stamped `ms` too; write it later). */
  session(ms: number, i: number, v6: boolean): { login: string; logout: string } {
    const ip = clientIp(i, v6);
    const pid = this.nextPid();
    const id = this.id(16);
    const head = `${this.stamp(ms)} ${this.o.host} dovecot: `;
    return {
      login: `${head}imap-login: Login: user=<bench${i}>, method=PLAIN, rip=${ip}, lip=${v6 ? '2001:db8:ffff::1' : '192.0.2.1'}, mpid=${pid}, TLS, session=<${id}>`,
      logout: `${head}imap(bench${i})<${pid}><${id}>: Disconnected: Logged out in=45 out=844 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0`,
    };
  }

  /** The next line, stamped `ms`. */
  line(ms: number): string {
    const n = ++this.stats.lines;
    this.lineMs = ms;
    const stamp = this.stamp(ms);
    const head = `${stamp} ${this.o.host} `;
    const due = this.pending.get(n);
    if (due) {
      // One line per line number: the rest moves on to the next one.
      this.pending.delete(n);
      const first = due.shift()!;
      for (const d of due) this.later(n + 1, d.text, d.logout);
      if (first.logout) this.stats.logouts++;
      return head + first.text;
    }
    // The login share counts the login-process lines; a failure's second one comes from `pending`.
    if (this.r() < this.o.loginShare * 0.85) return head + this.dovecot(n);
    return head + this.postfix();
  }

  /** Writes `count` lines stamped evenly from `fromMs` to `toMs`. */
  writeFile(path: string, count: number, fromMs: number, toMs: number): GeneratorStats {
    const fd = openSync(path, 'w');
    const step = count > 1 ? (toMs - fromMs) / (count - 1) : 0;
    let out: string[] = [];
    for (let i = 0; i < count; i++) {
      out.push(this.line(fromMs + step * i));
      if (out.length === 4096) {
        writeSync(fd, out.join('\n') + '\n');
        out = [];
      }
    }
    if (out.length) writeSync(fd, out.join('\n') + '\n');
    closeSync(fd);
    return this.stats;
  }
}
