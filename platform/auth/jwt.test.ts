import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { loadConfig } from '../config.ts';
import { AuthError, createTokenVerifier, signDevToken } from './jwt.ts';

const secret = 's'.repeat(32);
const maxLifetimeSeconds = 7 * 24 * 3600;
const verify = createTokenVerifier({ jwtSecret: secret, maxLifetimeSeconds });

/** An HS256 token over exactly these payload bytes: the crafted cases need literals JSON.stringify never writes. */
function craft(payload: string | Buffer, header: string | Buffer = '{"alg":"HS256","typ":"JWT"}'): string {
  const body = `${Buffer.from(header).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);

async function assertRefused(token: string, detail: RegExp) {
  await assert.rejects(verify(token), (error: unknown) => {
    assert.ok(error instanceof AuthError);
    assert.equal(error.code, 'unauthenticated');
    assert.match(error.message, detail);
    return true;
  });
}

test('a dev token always carries exp, so verifiers that require it accept it', async () => {
  const token = signDevToken(secret, { sub: 'alice', roles: ['admin'] }, 60);
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  assert.equal(typeof claims.exp, 'number');
  assert.deepEqual(await verify(token), { sub: 'alice', roles: ['admin'] });
});

test('a lifetime that would leave exp out (`mediagate token --ttl 0` or `--ttl abc`) is refused at signing', () => {
  for (const ttl of [0, Number.NaN, 1.5]) {
    assert.throws(() => signDevToken(secret, { sub: 'alice', roles: [] }, ttl), /lifetime/);
  }
});

describe('lifetime claims', () => {
  test('an exp that never comes (1e400 is Infinity, 10^30) is refused', async () => {
    await assertRefused(craft('{"sub":"alice","exp":1e400}'), /exp must be a finite/);
    await assertRefused(craft('{"sub":"alice","exp":1000000000000000000000000000000}'), /JWT_MAX_LIFETIME/);
  });

  test('an exp further ahead than the maximum lifetime is refused; one within it passes', async () => {
    const ahead = now() + maxLifetimeSeconds;
    await assertRefused(craft(`{"sub":"alice","exp":${ahead + 3600}}`), /more than 604800 seconds ahead/);
    assert.equal((await verify(craft(`{"sub":"alice","exp":${ahead - 60}}`))).sub, 'alice');
  });

  test('an iat in the future beyond the clock skew is refused; a small skew passes', async () => {
    const exp = now() + 600;
    await assertRefused(craft(`{"sub":"alice","exp":${exp},"iat":${now() + 3600}}`), /iat/);
    await assertRefused(craft(`{"sub":"alice","exp":${exp},"iat":"yesterday"}`), /iat/);
    assert.equal((await verify(craft(`{"sub":"alice","exp":${exp},"iat":${now() + 5}}`))).sub, 'alice');
  });

  test('the maximum is JWT_MAX_LIFETIME_SECONDS, 30 days unless set', () => {
    assert.equal(loadConfig({}).auth.maxLifetimeSeconds, 30 * 24 * 3600);
    assert.equal(loadConfig({ JWT_MAX_LIFETIME_SECONDS: '3600' }).auth.maxLifetimeSeconds, 3600);
  });
});

describe('bytes and characters', () => {
  const exp = () => now() + 600;

  test('a payload or header that is not valid UTF-8 is refused, not read with U+FFFD in it', async () => {
    const payload = Buffer.concat([
      Buffer.from('{"sub":"al'),
      Buffer.from([0xff]),
      Buffer.from(`ice","exp":${exp()}}`),
    ]);
    await assertRefused(craft(payload), /not valid UTF-8/);
    const header = Buffer.concat([
      Buffer.from('{"alg":"HS256","typ":"JW'),
      Buffer.from([0xc3]),
      Buffer.from('"}'),
    ]);
    await assertRefused(craft(`{"sub":"alice","exp":${exp()}}`, header), /not valid UTF-8/);
  });

  const invisible = {
    'U+200B zero width space': '\u200b',
    'U+200D zero width joiner': '\u200d',
    'U+2060 word joiner': '\u2060',
    'U+FEFF byte order mark': '\ufeff',
    'U+FFF9 interlinear annotation anchor': '\ufff9',
    'U+180E Mongolian vowel separator': '\u180e',
    'U+E0041 tag latin capital A': '\u{e0041}',
    'U+115F Hangul choseong filler': '\u115f',
    'U+1160 Hangul jungseong filler': '\u1160',
    'U+3164 Hangul filler': '\u3164',
    'U+FFA0 halfwidth Hangul filler': '\uffa0',
    'U+00AD soft hyphen': '\u00ad',
  };
  for (const [what, character] of Object.entries(invisible)) {
    test(`a sub with ${what} is refused`, async () => {
      const sub = JSON.stringify(`alice${character}`);
      await assertRefused(craft(`{"sub":${sub},"exp":${exp()}}`), /invisible/);
    });
  }

  const lookAlikes: Record<string, string> = {
    'a trailing U+00A0 no-break space': 'alice\u00a0',
    'a U+2800 Braille blank': 'al\u2800ice',
    'a U+3000 ideographic space': 'user\u300042',
    'a U+2002 en space': 'user\u200242',
    'a leading space': ' alice',
    'a trailing space': 'alice ',
    'a decomposed accent (a + U+0301)': 'zoe\u0301',
  };
  for (const [what, look] of Object.entries(lookAlikes)) {
    test(`a sub with ${what}, drawn like another user's, is refused`, async () => {
      await assertRefused(craft(`{"sub":${JSON.stringify(look)},"exp":${exp()}}`), /NFC.*blank/);
    });
  }

  test('subs people and identity providers use pass', async () => {
    for (const sub of [
      'auth0|5f7c8ec7c33c6c004bbafe82',
      'zoë@example.com',
      'zo\u00e9',
      '山田',
      'user 42',
      '😀',
    ]) {
      const token = craft(`{"sub":${JSON.stringify(sub)},"exp":${exp()}}`);
      assert.equal((await verify(token)).sub, sub);
    }
  });
});
