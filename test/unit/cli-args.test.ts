// Arguments shared by the verbs: an IP address in canonical form, and the length of a grant by hand.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grantSpan, ipArg, MAX_MANUAL_MS } from '../../src/cli/args.js';
import { UsageError } from '../../src/core/errors.js';

describe('CLI arguments', () => {
  it('an IP argument is made canonical, anything else is a usage error', () => {
    assert.equal(ipArg('::FFFF:192.0.2.7'), '192.0.2.7');
    assert.equal(ipArg('2001:DB8:0:0::1'), '2001:db8::1');
    assert.throws(() => ipArg('192.0.2.0/24'), UsageError);
    assert.throws(() => ipArg('mail.example.org'), UsageError);
  });

  it('--for defaults to the grace and is refused beyond the maximum, as the grace is by doctor', () => {
    assert.equal(grantSpan(undefined, 1_800_000), 1_800_000);
    assert.equal(grantSpan('2h', 1_800_000), 7_200_000);
    assert.equal(grantSpan('7d', 1_800_000), MAX_MANUAL_MS);
    assert.throws(
      () => grantSpan('8d', 1_800_000),
      (e: unknown) => e instanceof UsageError && /longer than 7 days/.test(e.message),
    );
    assert.throws(() => grantSpan('soon', 1_800_000), UsageError);
  });
});
