import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Credentials } from '../../core/credentials.js';

/**
 * Account credentials are sealed with AES-256-GCM before they reach the
 * database. The master key lives outside the database (environment or key
 * file), so a copy of the database alone reveals nothing. The field name is
 * authenticated data: a sealed secret cannot be swapped into another column.
 */
export interface SecretBox {
  seal(plain: string, field: string): string;
  open(sealed: string, field: string): string;
}

const VERSION = 'v1';
const KEY_BYTES = 32;

export class MasterKeyError extends Error {
  override name = 'MasterKeyError';
}

/** Accepts 32 bytes as 64 hex characters or base64. */
export function parseMasterKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
  if (key.length !== KEY_BYTES) {
    throw new MasterKeyError(`${source}: expected a 32-byte key as 64 hex characters or base64 (got ${key.length} bytes); make one with: openssl rand -hex 32`);
  }
  return key;
}

export function createSecretBox(key: Buffer): SecretBox {
  return {
    seal(plain, field) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(field));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
    },
    open(sealed, field) {
      const [version, payload] = sealed.split(':', 2);
      if (version !== VERSION || !payload) throw new MasterKeyError('a stored credential is not in a format this center knows');
      const raw = Buffer.from(payload, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAAD(Buffer.from(field));
      decipher.setAuthTag(raw.subarray(12, 28));
      try {
        return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
      } catch {
        throw new MasterKeyError('a stored credential cannot be decrypted: the master key is not the one it was sealed with');
      }
    },
  };
}

export interface MasterKeySource {
  /** `master_key` (from TRADECTL_MASTER_KEY): the key itself. */
  key: string | undefined;
  /** `master_key_file`: where the key is kept. */
  file: string | undefined;
  /** For the embedded database only: where to create a key when none is configured. */
  generateAt: string | undefined;
}

export interface LoadedKey {
  key: Buffer;
  /** Set when a new key file was written (the caller warns the operator). */
  generated?: string;
  source: string;
}

/**
 * The master key, from the environment, a key file, or, on an embedded
 * (SQLite) center's first start, a new key file written with mode 0600.
 */
export function loadMasterKey(source: MasterKeySource): LoadedKey {
  if (source.key) return { key: parseMasterKey(source.key, 'master_key'), source: 'master_key' };
  const file = source.file ?? source.generateAt;
  if (!file) {
    throw new MasterKeyError(
      'no master key: set TRADECTL_MASTER_KEY (64 hex characters, e.g. from `openssl rand -hex 32`) or master_key_file; it encrypts exchange credentials at rest and must be kept outside the database',
    );
  }
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) throw new MasterKeyError(`${file}: the master key file is readable by others (mode ${mode.toString(8)}); run chmod 600 ${file}`);
    return { key: parseMasterKey(readFileSync(file, 'utf8'), file), source: file };
  }
  if (source.file) throw new MasterKeyError(`${source.file}: master_key_file does not exist`);
  const key = randomBytes(KEY_BYTES);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { key, generated: file, source: file };
}

/** `abcd…wxyz`: enough for an operator to recognise a key, too little to use it. */
export function keyHint(apiKey: string): string {
  if (apiKey.length <= 8) return '…';
  return `${apiKey.slice(0, 4)}…${apiKey.slice(-4)}`;
}

/** An account's sealed credential columns. */
export interface SealedCredentials {
  api_key_enc: string;
  api_secret_enc: string;
  passphrase_enc: string | null;
}

/** The one place stored credentials are opened, into a `Credentials` that never serialises; only for a request about to carry them. */
export function openCredentials(box: SecretBox, sealed: SealedCredentials): Credentials {
  return new Credentials(box.open(sealed.api_key_enc, 'api_key'), box.open(sealed.api_secret_enc, 'api_secret'), sealed.passphrase_enc ? box.open(sealed.passphrase_enc, 'passphrase') : undefined);
}
