import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../shared/config-file.ts';
import { basicAuthOf, maskUrls, REDACTED, redactor, urlSecrets } from '../../shared/redact.ts';

describe('maskUrls', () => {
  it('masks the credentials of every URL in a text, and leaves the rest', () => {
    expect(maskUrls('http://user:pa%40ss@host:1/v1')).toBe('http://***@host:1/v1');
    expect(maskUrls('a https://k@h/x and http://u:p@g ok, mail a@b.c')).toBe('a https://***@h/x and http://***@g ok, mail a@b.c');
    expect(maskUrls('http://host/path?q=a@b')).toBe('http://host/path?q=a@b');
  });
});

describe('redactor', () => {
  it('replaces every secret, as is and JSON-escaped, longest first; short ones are left alone', () => {
    const redact = redactor(['sk-0123456789', 'sk-0123456789-longer', 'pa"ss\\word-x', 'short']);
    expect(redact('a sk-0123456789-longer b sk-0123456789 c')).toBe(`a ${REDACTED} b ${REDACTED} c`);
    expect(redact(JSON.stringify({ m: 'pa"ss\\word-x' }))).toBe(`{"m":"${REDACTED}"}`);
    expect(redact('a short text')).toBe('a short text');
  });

  it('names the forms in which URL credentials travel: the password, decoded, and the Basic token', () => {
    expect(urlSecrets('http://gw:p%40ss-word@h:1')).toEqual(['p%40ss-word', 'p@ss-word', Buffer.from('gw:p@ss-word').toString('base64')]);
    expect(urlSecrets('http://h:1')).toEqual([]);
  });

  it('builds the Basic token of URL credentials, malformed percent-encoding (%zz) as written', () => {
    expect(basicAuthOf(new URL('http://us%40er:p%3Ass@h'))).toBe(Buffer.from('us@er:p:ss').toString('base64'));
    expect(basicAuthOf(new URL('http://u:%zz@h'))).toBe(Buffer.from('u:%zz').toString('base64'));
    expect(basicAuthOf(new URL('http://h'))).toBeUndefined();
    expect(urlSecrets('http://u:%zz@h')).toEqual(['%zz', '%zz', Buffer.from('u:%zz').toString('base64')]);
  });

  it('the config lists its secrets (upstream keys, URL credentials, client keys) and names the short ones', () => {
    const c = parseConfig([
      'endpoints: ["http://gw:url-password-1@h:1", "http://h:2"]',
      'api_keys: {"http://h:2": "sk-upstream-key"}',
      'router_api_keys: {alice: "alice-key-1", bob: "bob"}',
    ].join('\n'), {});
    expect(c.secrets).toEqual(expect.arrayContaining(['sk-upstream-key', 'url-password-1', 'alice-key-1', 'bob']));
    expect(c.notices.map((n) => n.key)).toContain("the client key of 'bob'");
  });
});
