import { createHash } from 'node:crypto';

const REDACTED = '[redacted]';
const INSPECT = Symbol.for('nodejs.util.inspect.custom');

/**
 * An account's exchange credentials. The values live in private fields, so
 * `JSON.stringify`, `util.inspect`, template strings and loggers all see
 * `[redacted]`: a secret cannot leak by being serialised by accident, only by
 * a deliberate call to `reveal()` at the one place that hands it to ccxt.
 *
 * ```ts
 * const creds = new Credentials('key', 'secret');
 * JSON.stringify({ creds }); // {"creds":"[redacted]"}
 * ```
 */
export class Credentials {
  readonly #apiKey: string;
  readonly #secret: string;
  readonly #passphrase: string | undefined;
  #fingerprint: string | undefined;

  constructor(apiKey: string, secret: string, passphrase?: string) {
    this.#apiKey = apiKey;
    this.#secret = secret;
    this.#passphrase = passphrase === '' ? undefined : passphrase;
  }

  /** The raw values, for the exchange client only. */
  reveal(): { apiKey: string; secret: string; passphrase: string | undefined } {
    return { apiKey: this.#apiKey, secret: this.#secret, passphrase: this.#passphrase };
  }

  /**
   * A stable digest of every credential value: a cache key that changes when
   * a secret is rotated, and that is safe to keep in memory maps and logs.
   */
  fingerprint(): string {
    // Kept: the node asks for it several times per account per request.
    this.#fingerprint ??= createHash('sha256')
      .update(`${this.#apiKey}\u0000${this.#secret}\u0000${this.#passphrase ?? ''}`)
      .digest('hex')
      .slice(0, 32);
    return this.#fingerprint;
  }

  /** Every value that must never appear in output, longest first (for scrubbing). */
  secretValues(): string[] {
    return [this.#apiKey, this.#secret, this.#passphrase]
      .filter((s): s is string => typeof s === 'string' && s.length >= 4)
      .sort((a, b) => b.length - a.length);
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }

  [INSPECT](): string {
    return `Credentials(${REDACTED})`;
  }
}

/**
 * Removes every credential value from a text that came from outside (an
 * exchange's error message may echo the API key or the signed query string).
 */
export function scrubSecrets(text: string, credentials: Credentials | undefined): string {
  let out = text;
  if (credentials) {
    for (const value of credentials.secretValues()) out = out.split(value).join(REDACTED);
  }
  // Signed query strings carry a signature (and sometimes a key) that is
  // useless to an operator and should not travel further.
  return out.replace(/(signature|apiKey|api_key|sign|passphrase)=[^&\s"']+/gi, `$1=${REDACTED}`);
}
