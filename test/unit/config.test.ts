// The config file: NOMYO Router's keys honoured or named, and failing closed on anything that
// controls access (shared/config.ts).
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/config.ts';
import { configFrom, configPathOf, parseConfig } from '../../shared/config-file.ts';

const fails = (yaml: string, env: Record<string, string> = {}) => {
  try {
    parseConfig(yaml, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the config to be refused');
};

/** A config written the way NOMYO Router's own config.yaml is (its keys, its spellings). */
const NOMYO_CONFIG = `
endpoints:
  - http://10.0.0.50:11434
  - http://10.0.0.51:11434
  - https://api.openai.com/v1
llama_server_endpoints:
  - http://10.0.0.50:8889/v1
max_concurrent_connections: 2
nomyo-router-api-key: ""
api_keys:
  "http://10.0.0.50:11434": "ollama"
  "https://api.openai.com/v1": "\${OPENAI_KEY}"
  "http://10.0.0.50:8889/v1": "llama"
cache_enabled: true
cache_backend: redis
cache_similarity: 0.9
cache_ttl: 600
cache_db_path: llm_cache.db
cache_redis_url: redis://localhost:6379/0
cache_history_weight: 0.3
db_path: token_counts.db
`;

describe('fail closed', () => {
  it('a ${NAME} whose variable is unset stops the start, naming the variable and the key', () => {
    const message = fails('router_api_keys:\n  alice: "${ALICE_KEY}"\n  bob: "${BOB_KEY}"\n', { BOB_KEY: 'b' });
    expect(message).toContain('router_api_keys.alice');
    expect(message).toContain('${ALICE_KEY}');
    expect(fails('api_keys:\n  "https://api.openai.com/v1": "${OPENAI_KEY}"\n')).toContain('${OPENAI_KEY}');
  });

  it('an empty key for a principal, or one key for two principals, stops the start', () => {
    expect(fails('router_api_keys:\n  alice: ""\n')).toMatch(/router_api_keys\.alice.*empty/);
    const shared = fails('router_api_keys:\n  alice: "${K}"\n  bob: "${K}"\n', { K: 'same' });
    expect(shared).toMatch(/'alice' and 'bob' have the same key/);
    expect(shared).not.toContain('same'.repeat(2));
    expect(fails('router_api_key: k1\nrouter_api_keys:\n  alice: k1\n')).toMatch(/'default' and 'alice'/);
  });

  it('an unknown key that looks like access control stops the start; other unknown keys are named', () => {
    for (const key of ['router-api-key', 'auth_token', 'allowed_principals', 'api_key']) expect(fails(`${key}: x\n`)).toContain(key);
    const config = parseConfig('colour: blue\nendpoints: []\n', {});
    expect(config.notices).toContainEqual({ key: 'colour', message: expect.stringMatching(/not a key this gateway knows/) });
  });

  it('the client key given twice, differently, under two spellings stops the start', () => {
    expect(fails('router_api_key: a\nnomyo-router-api-key: b\n')).toMatch(/given twice/);
  });
});

describe("NOMYO Router's config", () => {
  it("is honoured as written: its key spellings, llama-server endpoints as Chat endpoints, api_keys by URL", () => {
    const config = parseConfig(NOMYO_CONFIG, { OPENAI_KEY: 'sk-x' });
    expect(config.endpoints).toEqual([
      { url: 'http://10.0.0.50:11434', kind: 'chat', files: 'text', tokenizer: 'none', apiKey: 'ollama' },
      { url: 'http://10.0.0.51:11434', kind: 'chat', files: 'text', tokenizer: 'none' },
      { url: 'https://api.openai.com/v1', kind: 'responses', apiKey: 'sk-x' },
      { url: 'http://10.0.0.50:8889/v1', kind: 'chat', files: 'text', tokenizer: 'llama.cpp', apiKey: 'llama' },
    ]);
    expect(config.maxConcurrentConnections).toBe(2);
    expect(config.cacheEnabled).toBe(true);
    expect(config.cacheTtlSeconds).toBe(600);
    // `nomyo-router-api-key: ""` means no key there ("leave empty to disable")...
    expect(config.clientKeys.size).toBe(0);
    // ...unless its environment variable gives one, as NOMYO Router does.
    expect([...parseConfig(NOMYO_CONFIG, { OPENAI_KEY: 'sk-x', NOMYO_ROUTER_API_KEY: 'rk' }).clientKeys]).toEqual([['rk', 'default']]);
    expect([...parseConfig('nomyo-router-api-key: "rk2"\n', {}).clientKeys]).toEqual([['rk2', 'default']]);
  });

  it('names every key it does not use as written, and what happens instead', () => {
    const notices = Object.fromEntries(parseConfig(NOMYO_CONFIG, { OPENAI_KEY: 'sk-x' }).notices.map((n) => [n.key, n.message]));
    expect(notices.cache_backend).toMatch(/DynamoDB/);
    expect(notices.cache_db_path).toMatch(/DynamoDB/);
    expect(notices.cache_redis_url).toMatch(/DynamoDB/);
    expect(notices.db_path).toMatch(/DynamoDB/);
    expect(notices.cache_similarity).toMatch(/semantic caching is not supported/);
    expect(notices.cache_history_weight).toMatch(/semantic caching/);
    expect(notices.router_api_key).toMatch(/not authenticated/);
  });

  it('a broken config names the file and the key, without a stack', () => {
    const err = (() => { try { configFrom('max_concurrent_connections: lots\n', 'my/config.yaml', {}); } catch (e) { return e as Error; } })()!;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/^config my\/config\.yaml: max_concurrent_connections: /);
    expect(() => configFrom('endpoints: [\n', 'bad.yaml', {})).toThrow(/^config bad\.yaml: /);
  });

  it("says what is wrong with a value in zod's English words", () => {
    expect(fails('max_concurrent_connections: lots\n')).toBe('max_concurrent_connections: Invalid input: expected number, received string');
    expect(fails('heartbeat_ms: 1.5\n')).toBe('heartbeat_ms: Invalid input: expected int, received number');
    expect(fails('heartbeat_ms: 5\n')).toBe('heartbeat_ms: Too small: expected number to be >=10');
    expect(fails('log_level: loud\n')).toBe('log_level: Invalid option: expected one of "debug"|"info"|"warn"|"error"');
    expect(fails('endpoints: [""]\n')).toBe('endpoints.0.url: Too small: expected string to have >=1 characters');
  });
});

describe('which file', () => {
  it('is $NOMYO_ROUTER_CONFIG_PATH, else ./config.yaml, else config.example.yaml', () => {
    expect(configPathOf({ NOMYO_ROUTER_CONFIG_PATH: 'x.yaml' }, () => true)).toBe('x.yaml');
    expect(configPathOf({}, (p) => p === 'config.yaml')).toBe('config.yaml');
    expect(configPathOf({}, () => false)).toBe('config.example.yaml');
  });
});

describe('Chat backends: files and hosted tools', () => {
  it('takes files as text on every Chat endpoint unless it says `files: parts`; unsupported_tools defaults to drop', () => {
    const config = parseConfig([
      'endpoints:',
      '  - http://ollama:11434',
      '  - { url: "http://vllm:8000/v1", type: chat }',
      '  - { url: "http://hosted:9000/v1", type: chat, files: parts }',
      '  - https://api.openai.com/v1',
    ].join('\n'), {});
    expect(config.endpoints.map((e) => [e.url, e.files])).toEqual([
      ['http://ollama:11434', 'text'], ['http://vllm:8000/v1', 'text'], ['http://hosted:9000/v1', 'parts'], ['https://api.openai.com/v1', undefined],
    ]);
    expect(config.unsupportedTools).toBe('drop');
    expect(parseConfig('unsupported_tools: reject\n', {}).unsupportedTools).toBe('reject');
    expect(fails('unsupported_tools: ignore\n')).toMatch(/unsupported_tools/);
    expect(fails('endpoints:\n  - { url: "http://x", files: pdf }\n')).toMatch(/endpoints\.0\.files/);
  });
});

describe('reasoning_keys (sealing encrypted_content on Chat backends)', () => {
  const KEY = 'k'.repeat(32);
  it('takes keys from the environment, first seals, all open; unset: a notice that blobs live only as long as the process', () => {
    expect(parseConfig('reasoning_keys: ["${NEW_KEY}", "${OLD_KEY}"]\n', { NEW_KEY: KEY, OLD_KEY: 'o'.repeat(40) }).reasoningKeys).toEqual([KEY, 'o'.repeat(40)]);
    const config = parseConfig('endpoints: []\n', {});
    expect(config.reasoningKeys).toBeNull();
    expect(config.notices.find((n) => n.key === 'reasoning_keys')?.message).toMatch(/key made at start.*restart.*another process/);
  });

  it('fails closed: an unset variable, an empty list, an empty or short key stop the start, naming the key', () => {
    expect(fails('reasoning_keys: ["${REASONING_KEY}"]\n')).toMatch(/reasoning_keys\[0\]: \$\{REASONING_KEY\} is not set/);
    expect(fails('reasoning_keys: []\n')).toMatch(/reasoning_keys: the list is empty/);
    expect(fails('reasoning_keys: [""]\n')).toMatch(/reasoning_keys\[0\]: a key must be at least 32 characters/);
    expect(fails(`reasoning_keys: ["${KEY}", "short"]\n`)).toMatch(/reasoning_keys\[1\]: a key must be at least 32/);
  });
});

describe('slot_lease_ms', () => {
  it('has one lower bound, which says why: any value under 1000 (0 and negatives too) gets it', () => {
    for (const v of [-5, 0, 50, 999]) expect(fails(`slot_lease_ms: ${v}\n`)).toMatch(new RegExp(`slot_lease_ms \\(${v}\\) must be at least 1000: a lease is renewed every third of it`));
    expect(parseConfig('slot_lease_ms: 1000\n', {}).slotLeaseMs).toBe(1000);
  });
});

describe('how Chat endpoints count prompt tokens (input_tokens)', () => {
  it('llama_server_endpoints with /apply-template + /tokenize, Ollama not at all, others by probing vLLM’s /tokenize', () => {
    const config = parseConfig([
      'endpoints:',
      '  - http://ollama:11434',
      '  - { url: "http://gpu:9000", type: ollama }',
      '  - { url: "http://vllm:8000/v1", type: chat }',
      '  - https://api.openai.com/v1',
      'llama_server_endpoints:',
      '  - http://llama:8889/v1',
    ].join('\n'), {});
    expect(config.endpoints.map((e) => [e.url, e.tokenizer])).toEqual([
      ['http://ollama:11434', 'none'], ['http://gpu:9000', 'none'], ['http://vllm:8000/v1', undefined],
      ['https://api.openai.com/v1', undefined], ['http://llama:8889/v1', 'llama.cpp'],
    ]);
  });
});
