// What the running Dovecot writes, from its own settings (doveconf): where its logins go, and
// whether popgate can read them — the client address element, the session ends, the stamp of
// its own log file. doctor reports it; the daemon says it at start.
import { execFile } from 'node:child_process';
import { error, ok, warning, type Finding } from './finding.js';

const KEYS = ['log_path', 'info_log_path', 'log_timestamp', 'login_log_format_elements', 'login_log_format', 'mail_log_prefix'] as const;
export type DovecotSettings = Record<(typeof KEYS)[number], string>;

/** Dovecot's settings, or null when doveconf is not there (no Dovecot on this host). */
export function readDovecot(command = 'doveconf'): Promise<DovecotSettings | null> {
  return new Promise((resolve) => {
    execFile(command, ['-h', ...KEYS], { timeout: 10_000 }, (err, stdout) => {
      if (err) return resolve(null);
      const values = String(stdout).split('\n');
      resolve(Object.fromEntries(KEYS.map((k, i) => [k, values[i] ?? ''])) as DovecotSettings);
    });
  });
}

/** The strftime directives popgate's timestamp reader knows in Dovecot's own files. */
const KNOWN_STAMP = /%(?:[YmdHMSbszZ]|\{usecs\})/g;

export function judgeDovecot(d: DovecotSettings, followed: readonly string[]): Finding[] {
  const out: Finding[] = [];
  const where = 'Dovecot (doveconf)';
  // Logins are logged at info level: info_log_path, when set, takes them from log_path.
  const target = d.info_log_path && d.info_log_path !== 'syslog' ? d.info_log_path : d.log_path;
  if (target === 'syslog' || target === '') {
    const syslogFollowed = followed.some((p) => p.startsWith('journal:') || p === '-' || /mail|syslog|messages/.test(p));
    out.push(
      syslogFollowed
        ? ok(where, 'logs through syslog, which popgate follows')
        : warning(
            where,
            'logs its logins through syslog, and no followed log looks like the mail log',
            'follow /var/log/mail.log or the journal (log = journal:_SYSTEMD_UNIT=dovecot.service), or give Dovecot a log_path and follow that',
          ),
    );
  } else if (followed.includes(target)) {
    out.push(ok(where, `writes its logins to ${target}, which popgate follows (only Dovecot writes there)`));
  } else {
    out.push(warning(where, `writes its logins to ${target}, which popgate does not follow`, `add it: log = ${[...followed, target].join(', ')} (written only by Dovecot: no forged lines)`));
  }
  const el = d.login_log_format_elements;
  if (!/\brip=%(?:r\b|\{rip\})/.test(el)) {
    out.push(error(where, `login_log_format_elements has no rip=%r: popgate cannot read the client's address in a login (${el})`, 'put rip=%r back in login_log_format_elements'));
  } else if (!/\buser=<%(?:u\b|\{user\})>/.test(el)) {
    out.push(error(where, `login_log_format_elements has no user=<%u>: popgate reads logins by it (${el})`, 'put user=<%u> back in login_log_format_elements'));
  } else out.push(ok(where, 'login lines carry user=<%u> and rip=%r'));
  if (!d.login_log_format.includes('%s')) out.push(error(where, `login_log_format has no %s: the login's elements are not logged (${d.login_log_format})`, 'use the default, %$: %s'));
  const prefix = d.mail_log_prefix;
  if (!/%\{session\}/.test(prefix)) {
    const byPid = /%\{pid\}|%p/.test(prefix) && /\bmpid=%e\b/.test(el);
    if (!byPid)
      out.push(
        warning(
          where,
          `mail_log_prefix names neither %{session} nor the process (${prefix}): session ends cannot be tied to their logins, so an IMAP session holds its grant until max_hold`,
          'add <%{session}> to mail_log_prefix (the default is %s(%u)<%{pid}><%{session}>: )',
        ),
      );
  }
  if (target !== 'syslog' && target !== '') {
    const unknown = d.log_timestamp.replace(KNOWN_STAMP, '').match(/%\S/g);
    if (unknown)
      out.push(warning(where, `log_timestamp "${d.log_timestamp}" uses ${unknown.join(' ')}, which popgate may not read`, `check with popgate parse --explain ${target}; or use %Y-%m-%d %H:%M:%S`));
  }
  return out;
}
