import pkg from '../../package.json' with { type: 'json' };

/** tradectl's version, from package.json (inlined into the node bundle). */
export const VERSION: string = pkg.version;
