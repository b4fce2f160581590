// relay-test against the real Postfix: the map-mode listener (correct configuration) refuses every
// probe from an ungranted 127.x source; the deliberately open listener (127.0.0.1:2528,
// mynetworks = 127.0.0.0/8, added by setup.sh) is reported open; a source popgate granted relays.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { it } from 'node:test';
import { e2eSkip, CLI, cli, mapLookup, RIG, startDaemon, suiteNeeding } from '../helpers/e2e.js';
import { loopbackAddress } from '../helpers/mail-clients.js';
import { waitFor } from '../helpers/wait.js';

const OPEN_PORT = 2528;
const skip = await e2eSkip();

interface Report {
  source: string;
  local_domain: string;
  accepted: number;
  probes: { probe: string; recipient: string; code: number; verdict: string }[];
}

function relayTest(args: string[]): Promise<{ code: number | null; report: Report | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, 'relay-test', ...args]);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => {
      let report: Report | null = null;
      try {
        report = JSON.parse(stdout) as Report;
      } catch {
        // table output
      }
      resolve({ code, report, stdout, stderr });
    });
  });
}

const openListener = await new Promise<boolean>((resolve) => {
  const s = connect({ host: '127.0.0.1', port: OPEN_PORT }, () => {
    s.destroy();
    resolve(true);
  });
  s.on('error', () => resolve(false));
});

suiteNeeding('relay-test against real Postfix', skip, () => {
  it('correct configuration: every probe refused from an ungranted 127.x source, exit 0', async () => {
    const src = loopbackAddress();
    const r = await relayTest([`127.0.0.1:${RIG.smtpMapPort}`, '--source', src, '--local-domain', 'localhost', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.report!.source, src);
    assert.ok(r.report!.probes.length >= 20);
    for (const p of r.report!.probes) assert.ok(p.verdict === 'refused' && p.code === 554, `${p.probe} <${p.recipient}>: ${p.code} ${p.verdict}`);
    const table = await relayTest([`127.0.0.1:${RIG.smtpMapPort}`, '--source', src]);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /local domain popgate-test\.localdomain \(from the greeting/);
    assert.match(table.stdout, new RegExp(`no relay for ${src.replace(/\./g, '\\.')}: all \\d+ probes refused`));
  });

  it('the deliberately open listener: open probes reported, exit 1', {
    skip: openListener || process.env.POPGATE_E2E === 'required' ? false : `nothing on 127.0.0.1:${OPEN_PORT}: re-run test/e2e/services/setup.sh`,
  }, async () => {
    const r = await relayTest([`127.0.0.1:${OPEN_PORT}`, '--source', loopbackAddress(), '--local-domain', 'localhost', '--json']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.report!.accepted, r.report!.probes.length);
    assert.ok(r.report!.probes.some((p) => p.probe === 'outside to outside' && p.verdict === 'accepted' && p.code === 250));
    const table = await relayTest([`127.0.0.1:${OPEN_PORT}`, '--source', loopbackAddress()]);
    assert.equal(table.code, 1);
    assert.match(table.stdout, /outside to outside .* 250 2\.1\.5 Ok +ACCEPTED/);
    assert.match(table.stdout, /OPEN RELAY for 127\.\d+\.\d+\.\d+: \d+ of \d+ probes accepted/);
  });

  it('a source popgate granted relays and is reported as such; an ungranted one next to it does not', async () => {
    const d = await startDaemon({});
    const granted = loopbackAddress();
    assert.equal(cli(['grant', granted, '--for', '5m', '--config', d.config]).code, 0);
    await waitFor('grant in the map', () => mapLookup(granted) === 'OK', 2000);
    const yes = await relayTest([`127.0.0.1:${RIG.smtpMapPort}`, '--source', granted, '--local-domain', 'localhost', '--json']);
    assert.equal(yes.code, 1, yes.stderr);
    assert.equal(yes.report!.accepted, yes.report!.probes.length, 'the granted source relays every probe');
    const no = await relayTest([`127.0.0.1:${RIG.smtpMapPort}`, '--source', loopbackAddress(), '--local-domain', 'localhost', '--json']);
    assert.equal(no.code, 0);
    assert.equal(no.report!.accepted, 0);
    cli(['revoke', granted, '--config', d.config]);
    await d.stop();
  });

  it('a closed port is a clear error, exit 69', async () => {
    const r = await relayTest(['127.0.0.1:2599', '--source', loopbackAddress()]);
    assert.equal(r.code, 69);
    assert.match(r.stderr, /127\.0\.0\.1:2599: cannot connect \(ECONNREFUSED\)/);
  });
});
