import { existsSync, readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { build, type Metafile, type Plugin } from 'esbuild';

/** Exchanges the executable carries unless `--exchanges` says otherwise (the paper exchange is always there). */
export const DEFAULT_EXCHANGES = ['binanceusdm', 'binance', 'okx', 'bybit', 'bitget'] as const;

/** Inputs that must never ship in the node: center code, the full CLI (which reaches it), SQL and Redis drivers. */
export const FORBIDDEN_INPUT = /(^|\/)src\/(center|cli)\/|node_modules\/(kysely|mysql2|ioredis|better-sqlite3|pg|redis|@redis|sqlite3|mariadb|bullmq|denque|redis-parser|cluster-key-slot)\//;

export class BundleError extends Error {
  override name = 'BundleError';
}

function ccxtDir(root: string): string {
  const require = createRequire(join(root, 'package.json'));
  // ccxt's exports map hides package.json; its CJS entry sits in dist/.
  return join(dirname(require.resolve('ccxt')), '..');
}

/**
 * What ccxt's own index would give, with only the chosen exchanges (and the
 * error classes): going through the index would pull in every exchange, and
 * optional dependencies such as protobufjs for two of them.
 */
function slimCcxtEntry(dir: string, exchanges: readonly string[]): string {
  const lines = [`export * from ${JSON.stringify(join(dir, 'js/src/base/errors.js'))};`];
  for (const id of exchanges) lines.push(`import ${id} from ${JSON.stringify(join(dir, `js/src/${id}.js`))};`);
  lines.push(`export { ${exchanges.join(', ')} };`);
  // Like ccxt's own index: `exchanges` maps each id to its class.
  lines.push(`export const exchanges = { ${exchanges.join(', ')} };`);
  return lines.join('\n');
}

/** Modules ccxt references that the node never reaches; left out, they fail loudly if ever reached. */
const omittedModules: Plugin = {
  name: 'tradectl-omitted',
  setup(b) {
    // ccxt's base class lazily imports protobuf codecs that only MEXC and
    // dYdX use (and whose dependency npm does not install).
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
  },
};

/** Where the program finds ccxt's code (the slim bundle) when it first needs it. */
type CcxtSource = { embedded: string } | { seaAsset: string };

/**
 * The program's `ccxt`: the slim ccxt bundle, compiled when first required
 * (src/exchange/ccxt-module.ts loads it after the node listens). Kept out of
 * the program's own code, its 1.5 MiB is not read, checked or carried by the
 * code cache at start. The .cjs carries it as text; the single executable
 * reads it from an SEA asset.
 */
function lazyCcxt(source: CcxtSource): Plugin {
  const text =
    'embedded' in source
      ? JSON.stringify(source.embedded)
      : `require('node:sea').getAsset(${JSON.stringify(source.seaAsset)}, 'utf8')`;
  return {
    name: 'tradectl-lazy-ccxt',
    setup(b) {
      b.onResolve({ filter: /^ccxt$/ }, () => ({ path: 'ccxt', namespace: 'tradectl-ccxt' }));
      b.onLoad({ filter: /.*/, namespace: 'tradectl-ccxt' }, () => ({
        contents: [
          "const { Script } = require('node:vm');",
          `new Script('(function (exports, require, module) {' + ${text} + '\\n})', { filename: 'ccxt.cjs' }).runInThisContext()(module.exports, require, module);`,
        ].join('\n'),
        loader: 'js',
      }));
    },
  };
}

/** The SEA asset that holds ccxt's code in the single executable. */
export const CCXT_SEA_ASSET = 'ccxt.cjs';

const COMMON_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  keepNames: true,
  legalComments: 'none',
  write: false,
  metafile: true,
  logLevel: 'silent',
} as const;

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

/** src/process/yaml-module.ts for the bundle: yaml bundled, still evaluated only when a config file is read. */
const bundledYaml: Plugin = {
  name: 'tradectl-bundled-yaml',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]process[\\/]yaml-module\.ts$/ }, (args) => ({
      contents: "export function yamlModule() { return require('yaml'); }",
      loader: 'js',
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * src/core/version.ts for the bundle: the version alone. Its JSON import of
 * package.json would otherwise carry the whole file (scripts, dependency
 * names) into the executable.
 */
function inlinedVersion(root: string): Plugin {
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return {
    name: 'tradectl-inlined-version',
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/]core[\\/]version\.ts$/ }, () => ({ contents: `export const VERSION = ${JSON.stringify(version)};`, loader: 'js' }));
    },
  };
}

export function checkExchanges(root: string, exchanges: readonly string[]): void {
  const dir = ccxtDir(root);
  const unknown = exchanges.filter((id) => !/^[a-z0-9]+$/.test(id) || !existsSync(join(dir, `js/src/${id}.js`)));
  if (unknown.length > 0) throw new BundleError(`--exchanges: ccxt has no exchange ${unknown.map((u) => `"${u}"`).join(', ')}`);
}

export interface NodeBundle {
  /** The program as one file, ccxt's code inside as text: the .cjs. */
  code: Uint8Array;
  /** The same program for the single executable: ccxt's code comes from the SEA asset CCXT_SEA_ASSET. */
  seaCode: Uint8Array;
  /** The slim ccxt bundle (chosen exchanges and the error classes). */
  ccxtCode: Uint8Array;
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
  const dir = ccxtDir(root);
  const ccxt = await build({
    ...COMMON_OPTIONS,
    absWorkingDir: root,
    stdin: { contents: slimCcxtEntry(dir, exchanges), resolveDir: dir, sourcefile: 'tradectl-slim-ccxt.js', loader: 'js' },
    outfile: 'ccxt.cjs',
    plugins: [omittedModules, builtinDynamicImports],
  });
  const chunk = ccxt.outputFiles[0];
  if (!chunk) throw new BundleError('esbuild produced no ccxt output');
  const program = (source: CcxtSource) =>
    build({
      ...COMMON_OPTIONS,
      absWorkingDir: root,
      entryPoints: ['src/node/main.ts'],
      outfile: 'execution-node.cjs',
      plugins: [lazyCcxt(source), builtinDynamicImports, bundledYaml, inlinedVersion(root)],
    });
  const [result, sea] = await Promise.all([program({ embedded: chunk.text }), program({ seaAsset: CCXT_SEA_ASSET })]);
  const file = result.outputFiles[0];
  const seaFile = sea.outputFiles[0];
  if (!file || !seaFile) throw new BundleError('esbuild produced no output');
  // One metafile for both builds: everything that ships is checked.
  const metafile: Metafile = { inputs: { ...ccxt.metafile.inputs, ...result.metafile.inputs }, outputs: result.metafile.outputs };
  const forbidden = Object.keys(metafile.inputs)
    .map((input) => relative(root, join(root, input)))
    .filter((input) => FORBIDDEN_INPUT.test(input));
  return { code: file.contents, seaCode: seaFile.contents, ccxtCode: chunk.contents, metafile, forbidden };
}
