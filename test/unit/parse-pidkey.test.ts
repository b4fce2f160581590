// Sessions tied by the mail process's pid (Dovecot's mail_log_prefix without %{session}), and the
// verdict of a known failure line, as `parse --explain` shows it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PARSERS } from '../../parsers/index.js';
import { Engine } from '../../src/parse/engine.js';
import { judge } from '../helpers/lines.js';

const NOW = Date.parse('2026-11-30T01:00:00Z');
const LOGIN = '2026-11-30 00:32:03 pop3-login: Info: Login: user=<alice>, method=PLAIN, rip=192.0.2.51, lip=192.0.2.1, mpid=24709, session=<bx7xiXNhIal/AAAz>';
const END = '2026-11-30 00:32:09 pop3(alice)<24709>: Info: Disconnected: Logged out top=0/0, retr=0/0, del=0/0, size=0';

describe('session end by the mail process pid', () => {
  it('a logout that names only the pid closes the login session and carries its session key', () => {
    const engine = new Engine(PARSERS);
    const state = engine.newSource();
    const login = judge(engine, LOGIN, state, NOW);
    assert.equal(login.kind, 'event');
    const end = judge(engine, END, state, NOW);
    assert.equal(end.kind, 'event', end.kind === 'none' || end.kind === 'matched' ? end.why : '');
    assert.deepEqual(
      end.events.map((e) => [e.event, e.ip, e.session]),
      [['logout', '192.0.2.51', login.events[0]!.session]],
    );
    assert.equal(login.events[0]!.session, 'dovecot:bx7xiXNhIal/AAAz', 'the store keys the session by its login');
    // The alias is used up: the same pid ends nothing more.
    assert.equal(judge(engine, END, state, NOW).events.length, 0);
  });

  it('a pid used again by a later login belongs to that login', () => {
    const engine = new Engine(PARSERS);
    const state = engine.newSource();
    judge(engine, LOGIN, state, NOW);
    judge(engine, LOGIN.replace('192.0.2.51', '192.0.2.52').replace('bx7xiXNhIal/AAAz', 'Zz7xiXNhIal/AAAz'), state, NOW);
    assert.deepEqual(
      judge(engine, END, state, NOW).events.map((e) => e.ip),
      ['192.0.2.52'],
    );
  });
});

describe('verdict of a line no rule read', () => {
  it('a known failure line says why it is not a login', () => {
    const engine = new Engine(PARSERS);
    const v = judge(
      engine,
      '2026-11-30 00:32:05 pop3-login: Info: Disconnected: Connection closed (auth failed, 1 attempts in 0 secs): user=<alice>, method=PLAIN, rip=192.0.2.54, lip=192.0.2.1, session=<p/8GinNhE4V/AAA2>',
      engine.newSource(),
      NOW,
    );
    assert.equal(v.kind, 'none');
    assert.match(v.kind === 'none' ? v.why : '', /^not a login: Dovecot login process/);
  });
});
