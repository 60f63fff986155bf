// Where the config comes from: the same file for `npm start`, the tests and `cdk synth`/`deploy`.
import { existsSync, readFileSync } from 'node:fs';
import { ConfigError, parseConfig, type Config } from './config.ts';
import { log } from './log.ts';

/** $NOMYO_ROUTER_CONFIG_PATH, else ./config.yaml, else config.example.yaml (as NOMYO Router, with the example as a last resort). */
export function configPathOf(env: Record<string, string | undefined> = process.env, exists: (p: string) => boolean = existsSync): string {
  if (env.NOMYO_ROUTER_CONFIG_PATH) return env.NOMYO_ROUTER_CONFIG_PATH;
  return exists('config.yaml') ? 'config.yaml' : 'config.example.yaml';
}

/** The config in `text`, read from `source`: any error names the source and the key, without a stack. */
export function configFrom(text: string, source: string, env: Record<string, string | undefined>): Config {
  try {
    return parseConfig(text, env);
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`config ${source}: ${err.message}`);
    throw new ConfigError(`config ${source}: ${(err as Error).message}`); // YAML syntax errors say where
  }
}

export function loadConfigFile(path: string, env: Record<string, string | undefined> = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`config ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return configFrom(text, path, env);
}

/** Says at start what the config does not do as written (NOMYO Router keys replaced, unknown keys). */
export function logConfigNotices(config: Config, source: string): void {
  for (const n of config.notices) log.warn(`config ${source}: ${n.key}: ${n.message}`, { config: source, key: n.key });
}
