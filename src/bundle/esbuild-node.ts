import { existsSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';

/** Exchanges the executable carries unless `--exchanges` says otherwise (the paper exchange is always there). */
export const DEFAULT_EXCHANGES = ['binanceusdm', 'binance', 'okx', 'bybit', 'bitget'] as const;

/** Inputs that must never ship in the node: center code, SQL and Redis drivers. */
export const FORBIDDEN_INPUT = /(^|\/)src\/center\/|node_modules\/(kysely|mysql2|ioredis|better-sqlite3|pg|redis|@redis|sqlite3|mariadb|bullmq|denque|redis-parser|cluster-key-slot)\//;

export class BundleError extends Error {
  override name = 'BundleError';
}

function ccxtDir(root: string): string {
  const require = createRequire(join(root, 'package.json'));
  // ccxt's exports map hides package.json; its CJS entry sits in dist/.
  return join(dirname(require.resolve('ccxt')), '..');
}

/**
 * Replaces `import … from 'ccxt'` with a module that carries only the chosen
 * exchanges and ccxt's error classes. Going through ccxt's own index would
 * pull in every exchange (and optional dependencies such as protobufjs for
 * two of them), however little is used.
 */
function slimCcxt(root: string, exchanges: readonly string[]): Plugin {
  const dir = ccxtDir(root);
  return {
    name: 'tradectl-slim-ccxt',
    setup(b) {
      b.onResolve({ filter: /^ccxt$/ }, () => ({ path: 'ccxt', namespace: 'tradectl-ccxt' }));
      // ccxt's base class lazily imports protobuf codecs that only MEXC and
      // dYdX use (and whose dependency npm does not install); left out, they
      // fail loudly if ever reached.
      b.onResolve({ filter: /protobuf\/mexc\/compiled\.cjs$|dydx-v4-client\/(registry|cosmos\/.*)\.js$/ }, (args) =>
        args.kind === 'dynamic-import' ? { path: args.path, namespace: 'tradectl-omitted' } : undefined,
      );
      // Optional native speed-ups that ws tries to require and does without.
      // Left as real require() calls they would make a single executable warn
      // at start ("require() … only supports built-in modules").
      b.onResolve({ filter: /^(bufferutil|utf-8-validate)$/ }, (args) => ({ path: args.path, namespace: 'tradectl-omitted' }));
      b.onLoad({ filter: /.*/, namespace: 'tradectl-omitted' }, (args) => ({
        contents: `throw new Error(${JSON.stringify(`${args.path} is not part of this execution-node build`)});`,
        loader: 'js',
      }));
      b.onLoad({ filter: /.*/, namespace: 'tradectl-ccxt' }, () => {
        const lines = [`export * from ${JSON.stringify(join(dir, 'js/src/base/errors.js'))};`];
        for (const id of exchanges) lines.push(`import ${id} from ${JSON.stringify(join(dir, `js/src/${id}.js`))};`);
        lines.push(`export { ${exchanges.join(', ')} };`);
        // Like ccxt's own index: `exchanges` maps each id to its class.
        lines.push(`export const exchanges = { ${exchanges.join(', ')} };`);
        return { contents: lines.join('\n'), resolveDir: dir, loader: 'js' };
      });
    },
  };
}

const BUILTIN = new RegExp(`^(node:)?(${builtinModules.map((m) => m.replace(/[/]/g, '\\/')).join('|')})$`);

/**
 * `import('node:zlib')` (ccxt loads zlib, http and fs that way) stays a real
 * dynamic import in a CommonJS bundle, which the executable's compiled
 * program cannot perform; as a bundled require() it behaves the same
 * everywhere.
 */
const builtinDynamicImports: Plugin = {
  name: 'tradectl-builtin-dynamic-imports',
  setup(b) {
    b.onResolve({ filter: BUILTIN }, (args) => (args.kind === 'dynamic-import' ? { path: args.path, namespace: 'tradectl-builtin' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'tradectl-builtin' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

/** src/cli/yaml-module.ts for the bundle: yaml bundled, still evaluated only when a config file is read. */
const bundledYaml: Plugin = {
  name: 'tradectl-bundled-yaml',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]cli[\\/]yaml-module\.ts$/ }, (args) => ({
      contents: "export function yamlModule() { return require('yaml'); }",
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

export function checkExchanges(root: string, exchanges: readonly string[]): void {
  const dir = ccxtDir(root);
  const unknown = exchanges.filter((id) => !/^[a-z0-9]+$/.test(id) || !existsSync(join(dir, `js/src/${id}.js`)));
  if (unknown.length > 0) throw new BundleError(`--exchanges: ccxt has no exchange ${unknown.map((u) => `"${u}"`).join(', ')}`);
}

export interface NodeBundle {
  code: Uint8Array;
  metafile: Metafile;
  /** Inputs that would ship although they must not (empty on success). */
  forbidden: string[];
}

/**
 * The execution node's entry (`src/node/main.ts`: node commands only) as one
 * CommonJS file with every dependency inside. Deterministic: the same
 * sources and options give the same bytes.
 */
export async function bundleNode(root: string, exchanges: readonly string[]): Promise<NodeBundle> {
  checkExchanges(root, exchanges);
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['src/node/main.ts'],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    keepNames: true,
    legalComments: 'none',
    write: false,
    metafile: true,
    outfile: 'execution-node.cjs',
    logLevel: 'silent',
    plugins: [slimCcxt(root, exchanges), builtinDynamicImports, bundledYaml],
  });
  const file = result.outputFiles[0];
  if (!file) throw new BundleError('esbuild produced no output');
  const forbidden = Object.keys(result.metafile.inputs)
    .map((input) => relative(root, join(root, input)))
    .filter((input) => FORBIDDEN_INPUT.test(input));
  return { code: file.contents, metafile: result.metafile, forbidden };
}
