// Where the config comes from: the same YAML file for `npm start`, the tests and `cdk synth`/`deploy`
// (which hands it to the functions as JSON).
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError, configFromDocument, configOf, type Config } from './config.ts';

/** The config in YAML text (JSON is YAML too). */
export const parseConfig = (yamlText: string, env: Record<string, string | undefined> = process.env): Config =>
  configFromDocument(parseYaml(yamlText), env);

/** $NOMYO_ROUTER_CONFIG_PATH, else ./config.yaml, else config.example.yaml (as NOMYO Router, with the example as a last resort). */
export function configPathOf(env: Record<string, string | undefined> = process.env, exists: (p: string) => boolean = existsSync): string {
  if (env.NOMYO_ROUTER_CONFIG_PATH) return env.NOMYO_ROUTER_CONFIG_PATH;
  return exists('config.yaml') ? 'config.yaml' : 'config.example.yaml';
}

/** The config in YAML `text`, read from `source`: any error names the source and the key, without a stack. */
export const configFrom = (text: string, source: string, env: Record<string, string | undefined>): Config =>
  configOf(() => parseYaml(text), source, env);

export function loadConfigFile(path: string, env: Record<string, string | undefined> = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`config ${path}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return configFrom(text, path, env);
}
