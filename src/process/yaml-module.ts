import { createRequire } from 'node:module';

type Yaml = typeof import('yaml');

let loaded: Yaml | undefined;

/**
 * The yaml package, evaluated on first use: a node started without a config
 * file never needs it, and evaluating it is a measurable part of the
 * standalone node's start-up. The node bundle replaces this module with a
 * bundled require (src/bundle/esbuild-node.ts), since the executable has no
 * node_modules to resolve from.
 */
export function yamlModule(): Yaml {
  loaded ??= createRequire(import.meta.url)('yaml') as Yaml;
  return loaded;
}
