// How every Lambda is built: ONE set of esbuild settings, used by the stack (NodejsFunction's
// local esbuild bundling) and by bench/bundle.ts (the esbuild API), so the bench measures the
// same bytes that `cdk synth` puts in the asset.
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'esbuild';
import { LogLevel, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';

/** The repository root (infra/..): entries and the config file are resolved from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** esbuild target for the Lambda runtime (NODEJS_24_X in the stack). */
export const NODE_TARGET = 'node24';

/**
 * ESM bundles have no `require`; CommonJS dependencies bundled into them (and esbuild's
 * `__require` shim for them) may still call it for Node built-ins, which throws "Dynamic require
 * of X is not supported" without this.
 */
export const ESM_REQUIRE_SHIM = "import{createRequire as __gwCreateRequire}from'node:module';const require=__gwCreateRequire(import.meta.url);";

export interface BundleSettings {
  target: string;
  format: 'esm';
  minify: boolean;
  /** External `.map` files beside the bundle (with NODE_OPTIONS=--enable-source-maps), or none. */
  sourceMap: boolean;
  /**
   * Only RUNTIME_MODULES are external: the AWS SDK v3 clients we use are bundled at the versions
   * in the lockfile (the ones the tests ran against), not whatever the runtime happens to ship,
   * and esbuild keeps only what is imported (no unused clients).
   */
  externalModules: string[];
  mainFields: string[];
  banner: string;
  /** Modules replaced by others (package -> project path). */
  alias: Record<string, string>;
}

/**
 * The SDK's default credential chain is replaced by the credentials Lambda puts in the
 * environment (functions/lambda-credentials.ts): the chain is a sixth of a bundle, and a Lambda
 * function has nothing else to look in.
 */
export const ALIASES: Record<string, string> = { '@aws-sdk/credential-provider-node': './functions/lambda-credentials.ts' };

/**
 * Packages loaded only when needed (a dynamic import), shipped beside the bundle in the asset's
 * node_modules instead of inside it: unpdf (PDF.js, 1.6 MB) reads PDFs sent to Chat backends,
 * and a gateway that never sees one never parses it. Copied from the project's own node_modules
 * (no install, offline); each has no dependencies of its own.
 */
export const RUNTIME_MODULES = ['unpdf'];

/** The shell commands that put RUNTIME_MODULES into an asset directory (`cp` of package.json and dist/). */
export function runtimeModuleCommands(projectRoot: string, outputDir: string): string[] {
  return RUNTIME_MODULES.flatMap((name) => [
    `mkdir -p "${outputDir}/node_modules/${name}"`,
    `cp "${projectRoot}/node_modules/${name}/package.json" "${outputDir}/node_modules/${name}/"`,
    `cp -R "${projectRoot}/node_modules/${name}/dist" "${outputDir}/node_modules/${name}/"`,
  ]);
}

export function bundleSettings(opts: { sourceMap?: boolean } = {}): BundleSettings {
  return {
    target: NODE_TARGET,
    format: 'esm',
    minify: true,
    sourceMap: opts.sourceMap ?? false,
    externalModules: RUNTIME_MODULES,
    // Prefer dependencies' ESM builds (the SDK's dist-es): they tree-shake better.
    mainFields: ['module', 'main'],
    banner: ESM_REQUIRE_SHIM,
    alias: ALIASES,
  };
}

export interface FunctionSpec {
  /** Construct id and name in bench output. */
  id: 'Api' | 'Worker' | 'Sweeper';
  /** Entry file, relative to the project root. */
  entry: string;
  /** The exported handler. */
  handler: string;
  memorySize: number;
  timeoutSeconds: number;
  description: string;
}

export const FUNCTIONS: readonly FunctionSpec[] = [
  {
    id: 'Api',
    entry: 'functions/api/handler.ts',
    handler: 'handler',
    // From bench/lambda-costs.ts (docs/benchmarks.md, "What a request costs on Lambda"): a request
    // peaks at 78-97 MiB, one with the largest body (6 MB: a 4.3 MB image) at 263 MiB, so 512 MB
    // keeps about twice that. An instance serves one
    // request at a time and mostly waits on the model, so memory is most of the bill; 1024 MB
    // would halve the gateway's own CPU time per request (Lambda's CPU share grows with memory)
    // at twice the price (docs/benchmarks.md, "What a request costs on Lambda").
    memorySize: 512,
    // A streamed generation may run as long as Lambda allows.
    timeoutSeconds: 900,
    description: 'Responses API behind the Function URL (streaming)',
  },
  {
    id: 'Worker',
    entry: 'functions/worker/handler.ts',
    handler: 'handler',
    // A job with the largest input (a 4.3 MB image) peaks at 140 MiB, a 30 s stream at 94 MiB
    // (docs/benchmarks.md, "What a request costs on Lambda").
    memorySize: 512,
    timeoutSeconds: 900,
    description: 'Runs one background response (Step Functions task)',
  },
  {
    id: 'Sweeper',
    entry: 'functions/sweeper/handler.ts',
    handler: 'handler',
    memorySize: 256,
    timeoutSeconds: 60,
    description: 'Marks orphaned queued/in_progress responses failed',
  },
];

/** The file name NodejsFunction gives an ESM bundle (so the Lambda handler is `index.<export>`). */
export const BUNDLE_FILE = 'index.mjs';

/**
 * The esbuild API options equal to the CLI call NodejsFunction makes with `settings`:
 * `esbuild --bundle <entry> --target=… --platform=node --format=esm --outfile=…/index.mjs
 * --minify [--sourcemap] --external:… --banner:js=… --main-fields=module,main` in the project root.
 */
export function esbuildOptions(settings: BundleSettings, entry: string, outfile: string): BuildOptions {
  return {
    absWorkingDir: PROJECT_ROOT,
    entryPoints: [entry],
    bundle: true,
    target: settings.target,
    platform: 'node',
    format: settings.format,
    outfile,
    minify: settings.minify,
    sourcemap: settings.sourceMap,
    external: settings.externalModules,
    banner: { js: settings.banner },
    mainFields: settings.mainFields,
    alias: settings.alias,
    logLevel: 'warning',
  };
}

/** The same settings as NodejsFunction `bundling` props (local esbuild; Docker never used). */
export function cdkBundlingOptions(settings: BundleSettings): BundlingOptions {
  return {
    target: settings.target,
    format: OutputFormat.ESM,
    minify: settings.minify,
    sourceMap: settings.sourceMap,
    externalModules: settings.externalModules,
    mainFields: settings.mainFields,
    banner: settings.banner,
    esbuildArgs: Object.fromEntries(Object.entries(settings.alias).map(([from, to]) => [`--alias:${from}`, to])),
    logLevel: LogLevel.WARNING,
    forceDockerBundling: false,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir, outputDir) => runtimeModuleCommands(inputDir, outputDir),
    },
  };
}
