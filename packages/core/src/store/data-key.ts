import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, scrypt } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidInputError, InvalidKeyError, NotConfiguredError, StoreDamagedError, WrongPassphraseError } from '../errors.ts'
import { writeFileAtomic } from '../util/atomic-file.ts'
import type { KeyObject } from 'node:crypto'

/**
 * The store's data key: 32 random bytes that encrypt every chunk and metadata blob
 * (AES-256-GCM). It never lies on disk in the clear, only wrapped in the key file:
 *
 * - `passphrase`: under a key scrypt derives from the admin passphrase (always present: it is
 *   the way back in when everything else is lost);
 * - `local`: under a random secret in a second file, so the server restarts unattended.
 *   "Locked" mode has no local wrap and no secret file: every start needs the passphrase.
 *
 * Changing the passphrase or the mode rewraps the same data key, so stored data stays as it is.
 */

/** Where a keyring lives. The secret may sit elsewhere (another disk) than the key file. */
export interface KeyringFiles {
  /** The wrapped data key (JSON, 0600). */
  keyFile: string
  /** The local secret that unwraps it without the passphrase (0600); absent in locked mode. */
  localSecretFile: string
}

/** `missing`: no key file yet; `locked`: only the passphrase opens it; `unattended`: the local secret does too. */
export type KeyringState = 'missing' | 'locked' | 'unattended'

/** The default file names inside a store's directory. */
export function keyringFiles (dir: string): KeyringFiles {
  return { keyFile: join(dir, 'data-key.json'), localSecretFile: join(dir, 'local-secret') }
}

const FORMAT = 'aerie-data-key/1'
const KEY_BYTES = 32
const NONCE_BYTES = 12
const TAG_BYTES = 16
/** What sealBlob adds to the bytes it seals: nonce and tag. */
export const SEAL_OVERHEAD = NONCE_BYTES + TAG_BYTES

// scrypt at N = 2^17, r = 8 takes 128 MiB and ≈ 0.4 s here: costly to guess, fine once per start.
const SCRYPT = { N: 2 ** 17, r: 8, p: 1 }
// Parameters read back from a file are bounded, so an altered file cannot ask for gigabytes.
const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024
const MIN_PASSPHRASE_LENGTH = 8

const PASSPHRASE_AAD = `${FORMAT} passphrase`
const LOCAL_AAD = `${FORMAT} local`

interface PassphraseWrap { kdf: 'scrypt', N: number, r: number, p: number, salt: string, sealed: string }
interface KeyFile { format: typeof FORMAT, passphrase: PassphraseWrap, local?: { sealed: string } }

/** Refuses anything but a data key as createKeyring makes it: a 32-byte secret key. */
export function assertDataKey (dataKey: KeyObject): void {
  if (dataKey.type !== 'secret' || dataKey.symmetricKeySize !== KEY_BYTES) throw new InvalidInputError(`the data key must be a ${KEY_BYTES}-byte secret key (see data-key.ts)`)
}

/** Seals bytes under the key: nonce ‖ ciphertext ‖ tag. `aad` binds them to their place (a chunk's hash, a blob's name). */
export function sealBlob (key: KeyObject, bytes: Uint8Array, aad: Uint8Array | string): Buffer {
  return Buffer.concat(sealParts(key, bytes, aad), bytes.byteLength + SEAL_OVERHEAD)
}

/** sealBlob's three parts, not joined: a pack writes them as they are (one copy of each chunk fewer). */
export function sealParts (key: KeyObject, bytes: Uint8Array, aad: Uint8Array | string): [nonce: Buffer, body: Buffer, tag: Buffer] {
  const nonce = randomBytes(NONCE_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key, nonce)
  cipher.setAAD(typeof aad === 'string' ? Buffer.from(aad) : aad)
  const body = cipher.update(bytes)
  cipher.final()
  return [nonce, body, cipher.getAuthTag()]
}

/** The bytes sealBlob sealed under the same key and `aad`; anything else (changed, cut, another key) is a StoreDamagedError. */
export function openBlob (key: KeyObject, sealed: Uint8Array, aad: Uint8Array | string): Buffer {
  if (sealed.byteLength < SEAL_OVERHEAD) throw new StoreDamagedError(`a sealed blob of ${sealed.byteLength} bytes is too short to be one`)
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, NONCE_BYTES))
  decipher.setAAD(typeof aad === 'string' ? Buffer.from(aad) : aad)
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_BYTES))
  const plain = decipher.update(sealed.subarray(NONCE_BYTES, sealed.byteLength - TAG_BYTES))
  try {
    decipher.final()
  } catch (err) {
    throw new StoreDamagedError('a sealed blob does not authenticate: its bytes changed, or it was sealed under another key', { cause: err })
  }
  return plain
}

export async function keyringState (files: KeyringFiles): Promise<KeyringState> {
  const file = await readKeyFile(files.keyFile, { missingIsFine: true })
  if (file === undefined) return 'missing'
  return file.local === undefined ? 'locked' : 'unattended'
}

/**
 * Makes a new random data key and writes its wraps. Refuses when a key file exists: a new
 * key would leave everything sealed under the old one unreadable.
 */
export async function createKeyring (files: KeyringFiles, options: { passphrase: string, locked?: boolean }): Promise<KeyObject> {
  checkNewPassphrase(options.passphrase)
  if (await readKeyFile(files.keyFile, { missingIsFine: true }) !== undefined) {
    throw new InvalidInputError(`a data key already exists in ${files.keyFile}; unlock it instead (a new key would make everything stored under it unreadable)`)
  }
  const dataKey = createSecretKey(randomBytes(KEY_BYTES))
  const file: KeyFile = { format: FORMAT, passphrase: await wrapWithPassphrase(dataKey, options.passphrase) }
  if (options.locked !== true) file.local = await writeLocalSecret(files, dataKey)
  await writeKeyFile(files.keyFile, file)
  return dataKey
}

/** Opens the data key with the local secret (unattended start); a locked keyring needs the passphrase instead. */
export async function unlockWithLocalSecret (files: KeyringFiles): Promise<KeyObject> {
  const file = await readKeyFile(files.keyFile)
  if (file.local === undefined) {
    throw new NotConfiguredError(`the data key in ${files.keyFile} is locked: unlock it with the admin passphrase`)
  }
  let secret: Buffer
  try {
    secret = Buffer.from((await readFile(files.localSecretFile, 'utf8')).trim(), 'base64')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    throw new NotConfiguredError(`the local secret ${files.localSecretFile} is missing: unlock with the admin passphrase, then turn locked mode off to write a new one`, { cause: err })
  }
  if (secret.byteLength !== KEY_BYTES) {
    throw new InvalidKeyError(`the local secret ${files.localSecretFile} is damaged (not ${KEY_BYTES} bytes of base64): unlock with the admin passphrase, then turn locked mode off to write a new one`)
  }
  try {
    return unwrap(createSecretKey(secret), file.local.sealed, LOCAL_AAD)
  } catch (err) {
    throw new InvalidKeyError(`the local secret ${files.localSecretFile} does not open the data key in ${files.keyFile} (they do not belong together, or one was changed): unlock with the admin passphrase`, { cause: err })
  }
}

export async function unlockWithPassphrase (files: KeyringFiles, passphrase: string): Promise<KeyObject> {
  return await openWithPassphrase(files.keyFile, await readKeyFile(files.keyFile), passphrase)
}

/** Rewraps the same data key under a new passphrase; the old one must be given and stops working. */
export async function changePassphrase (files: KeyringFiles, oldPassphrase: string, newPassphrase: string): Promise<void> {
  checkNewPassphrase(newPassphrase)
  const file = await readKeyFile(files.keyFile)
  const dataKey = await openWithPassphrase(files.keyFile, file, oldPassphrase)
  await writeKeyFile(files.keyFile, { ...file, passphrase: await wrapWithPassphrase(dataKey, newPassphrase) })
}

/**
 * Locked mode on: the local wrap and secret go, every start needs the passphrase. Off: a new
 * local secret is written. Both need the passphrase: locking must not leave a keyring that
 * nothing the admin knows can open.
 */
export async function setLocked (files: KeyringFiles, passphrase: string, locked: boolean): Promise<void> {
  const file = await readKeyFile(files.keyFile)
  const dataKey = await openWithPassphrase(files.keyFile, file, passphrase)
  if (locked) {
    // The key file first: a crash in between leaves a secret that nothing refers to, not a wrap without its secret.
    if (file.local !== undefined) await writeKeyFile(files.keyFile, { format: file.format, passphrase: file.passphrase })
    await rm(files.localSecretFile, { force: true })
  } else if (file.local === undefined) {
    await writeKeyFile(files.keyFile, { ...file, local: await writeLocalSecret(files, dataKey) })
  }
}

function checkNewPassphrase (passphrase: string): void {
  if (typeof passphrase !== 'string' || [...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    throw new InvalidInputError(`the storage passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters; choose a longer one and keep it somewhere safe`)
  }
}

async function writeLocalSecret (files: KeyringFiles, dataKey: KeyObject): Promise<{ sealed: string }> {
  const secret = randomBytes(KEY_BYTES)
  await writeFileAtomic(files.localSecretFile, secret.toString('base64') + '\n', { mode: 0o600 })
  return { sealed: sealBlob(createSecretKey(secret), dataKey.export(), LOCAL_AAD).toString('base64') }
}

async function wrapWithPassphrase (dataKey: KeyObject, passphrase: string): Promise<PassphraseWrap> {
  const salt = randomBytes(16)
  const kek = await deriveKey(passphrase, salt, SCRYPT)
  return { kdf: 'scrypt', ...SCRYPT, salt: salt.toString('base64'), sealed: sealBlob(kek, dataKey.export(), PASSPHRASE_AAD).toString('base64') }
}

async function openWithPassphrase (path: string, file: KeyFile, passphrase: string): Promise<KeyObject> {
  const wrap = file.passphrase
  const kek = await deriveKey(passphrase, Buffer.from(wrap.salt, 'base64'), wrap)
  try {
    return unwrap(kek, wrap.sealed, PASSPHRASE_AAD)
  } catch (err) {
    throw new WrongPassphraseError(`the passphrase does not open the data key in ${path}; check it and try again`, { cause: err })
  }
}

function unwrap (kek: KeyObject, sealed: string, aad: string): KeyObject {
  const key = openBlob(kek, Buffer.from(sealed, 'base64'), aad)
  if (key.byteLength !== KEY_BYTES) throw new StoreDamagedError(`a wrapped data key is ${key.byteLength} bytes, not ${KEY_BYTES}`)
  return createSecretKey(key)
}

async function deriveKey (passphrase: string, salt: Uint8Array, cost: { N: number, r: number, p: number }): Promise<KeyObject> {
  // NFC: the same passphrase typed on another keyboard or OS must give the same key.
  const text = typeof passphrase === 'string' ? passphrase.normalize('NFC') : ''
  const maxmem = 2 * 128 * cost.N * cost.r * cost.p
  const key = await new Promise<Buffer>((resolve, reject) => {
    scrypt(text, salt, KEY_BYTES, { ...cost, maxmem }, (err, derived) => { if (err === null) resolve(derived); else reject(err) })
  })
  return createSecretKey(key)
}

async function readKeyFile (path: string): Promise<KeyFile>
async function readKeyFile (path: string, options: { missingIsFine: true }): Promise<KeyFile | undefined>
async function readKeyFile (path: string, options: { missingIsFine?: boolean } = {}): Promise<KeyFile | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    if (options.missingIsFine === true) return undefined
    throw new NotConfiguredError(`there is no data key in ${path}: set up the store's keyring first, or give the directory that holds it`, { cause: err })
  }
  const damaged = (what: string): NotConfiguredError => new NotConfiguredError(
    `the data key file ${path} is damaged (${what}): restore it from a backup; without it the stored data cannot be read`)
  let file: unknown
  try {
    file = JSON.parse(text)
  } catch {
    throw damaged('not JSON')
  }
  if (!isRecord(file) || file.format !== FORMAT) throw damaged(`not ${FORMAT}`)
  const wrap = file.passphrase
  if (!isRecord(wrap) || wrap.kdf !== 'scrypt' || typeof wrap.salt !== 'string' || typeof wrap.sealed !== 'string') throw damaged('no passphrase wrap')
  const { N, r, p } = wrap
  const sane = isCount(N) && isCount(r) && isCount(p) && 128 * N * r * p <= MAX_SCRYPT_MEMORY && N >= 2 && (N & (N - 1)) === 0
  if (!sane) throw damaged('bad scrypt parameters')
  const local = file.local
  if (local !== undefined && (!isRecord(local) || typeof local.sealed !== 'string')) throw damaged('a bad local wrap')
  return file as unknown as KeyFile
}

async function writeKeyFile (path: string, file: KeyFile): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 })
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isCount (value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1
}
