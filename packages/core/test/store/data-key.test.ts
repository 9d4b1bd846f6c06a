import { createSecretKey, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidInputError, InvalidKeyError, NotConfiguredError, StoreDamagedError, WrongPassphraseError } from '../../src/errors.ts'
import {
  changePassphrase, createKeyring, keyringFiles, keyringState, openBlob, sealBlob, setLocked, unlockWithLocalSecret, unlockWithPassphrase
} from '../../src/store/index.ts'
import type { KeyObject } from 'node:crypto'
import type { KeyringFiles } from '../../src/store/index.ts'

// Every unlock with a passphrase runs scrypt at full cost (≈ 0.4 s): the tests use few.
const PASSPHRASE = 'correct horse battery staple'

describe('data key', () => {
  let root: string
  let n = 0
  const freshFiles = (): KeyringFiles => keyringFiles(join(root, `keyring-${n++}`))

  beforeAll(async () => { root = await mkdtemp(join(tmpdir(), 'aerie-data-key-')) })
  afterAll(async () => { await rm(root, { recursive: true, force: true }) })

  describe('an unattended keyring', () => {
    let files: KeyringFiles
    let dataKey: KeyObject

    beforeAll(async () => {
      files = freshFiles()
      dataKey = await createKeyring(files, { passphrase: PASSPHRASE })
    })

    it('opens with the local secret alone (a restart without anyone there)', async () => {
      expect(await keyringState(files)).toBe('unattended')
      expect((await unlockWithLocalSecret(files)).equals(dataKey)).toBe(true)
    })

    it('opens with the passphrase', async () => {
      expect((await unlockWithPassphrase(files, PASSPHRASE)).equals(dataKey)).toBe(true)
    })

    it('refuses a wrong passphrase with a typed error', async () => {
      const err = await unlockWithPassphrase(files, 'correct horse battery stapler').then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(WrongPassphraseError)
      expect((err as WrongPassphraseError).code).toBe('ERR_WRONG_PASSPHRASE')
    })

    it('keeps the key file and the local secret readable by its owner only', async () => {
      expect((await stat(files.keyFile)).mode & 0o777).toBe(0o600)
      expect((await stat(files.localSecretFile)).mode & 0o777).toBe(0o600)
      expect(await readFile(files.keyFile, 'utf8')).not.toContain(dataKey.export().toString('base64'))
    })

    it('is never replaced by a new key', async () => {
      await expect(createKeyring(files, { passphrase: PASSPHRASE })).rejects.toThrow(InvalidInputError)
      expect((await unlockWithLocalSecret(files)).equals(dataKey)).toBe(true)
    })
  })

  it('changes the passphrase without changing the data key; the old one stops working', async () => {
    const files = freshFiles()
    const dataKey = await createKeyring(files, { passphrase: PASSPHRASE })
    await expect(changePassphrase(files, 'not the passphrase', 'a new passphrase')).rejects.toThrow(WrongPassphraseError)
    await changePassphrase(files, PASSPHRASE, 'a new passphrase')
    expect((await unlockWithPassphrase(files, 'a new passphrase')).equals(dataKey)).toBe(true)
    await expect(unlockWithPassphrase(files, PASSPHRASE)).rejects.toThrow(WrongPassphraseError)
    expect((await unlockWithLocalSecret(files)).equals(dataKey)).toBe(true)
  })

  it('in locked mode writes no local secret and opens only with the passphrase; the mode can be switched', async () => {
    const files = freshFiles()
    const dataKey = await createKeyring(files, { passphrase: PASSPHRASE, locked: true })
    expect(existsSync(files.localSecretFile)).toBe(false)
    expect(await keyringState(files)).toBe('locked')
    await expect(unlockWithLocalSecret(files)).rejects.toThrow(NotConfiguredError)
    await setLocked(files, PASSPHRASE, false)
    expect(await keyringState(files)).toBe('unattended')
    expect((await unlockWithLocalSecret(files)).equals(dataKey)).toBe(true)
    await setLocked(files, PASSPHRASE, true)
    expect(existsSync(files.localSecretFile)).toBe(false)
    await expect(unlockWithLocalSecret(files)).rejects.toThrow(/locked/)
    expect((await unlockWithPassphrase(files, PASSPHRASE)).equals(dataKey)).toBe(true)
  })

  it('says what to do when the key file is missing or damaged', async () => {
    const files = freshFiles()
    expect(await keyringState(files)).toBe('missing')
    await expect(unlockWithLocalSecret(files)).rejects.toThrow(NotConfiguredError)
    await expect(unlockWithPassphrase(files, PASSPHRASE)).rejects.toThrow(/no data key/)
    await mkdir(dirname(files.keyFile), { recursive: true })
    await writeFile(files.keyFile, '{"format": "aerie-data-key/1", "passphrase": {')
    await expect(unlockWithPassphrase(files, PASSPHRASE)).rejects.toThrow(NotConfiguredError)
    await expect(unlockWithPassphrase(files, PASSPHRASE)).rejects.toThrow(/damaged.*restore it from a backup/)
  })

  it('refuses a local secret that does not belong to the key file', async () => {
    const files = freshFiles()
    await createKeyring(files, { passphrase: PASSPHRASE })
    await writeFile(files.localSecretFile, randomBytes(32).toString('base64'))
    await expect(unlockWithLocalSecret(files)).rejects.toThrow(InvalidKeyError)
  })

  it('refuses a short passphrase', async () => {
    await expect(createKeyring(freshFiles(), { passphrase: 'short' })).rejects.toThrow(InvalidInputError)
  })

  it('seals blobs that open only under the same key and associated data', () => {
    const key = createSecretKey(randomBytes(32))
    const other = createSecretKey(randomBytes(32))
    const blob = Buffer.from('a snapshot tree')
    const sealed = sealBlob(key, blob, 'tree 1')
    expect(sealed.byteLength).toBe(blob.byteLength + 28)
    expect(openBlob(key, sealed, 'tree 1')).toEqual(blob)
    expect(() => openBlob(key, sealed, 'tree 2')).toThrow(StoreDamagedError)
    expect(() => openBlob(other, sealed, 'tree 1')).toThrow(StoreDamagedError)
    const flipped = Buffer.from(sealed)
    flipped[14] = flipped[14]! ^ 1
    expect(() => openBlob(key, flipped, 'tree 1')).toThrow(StoreDamagedError)
    expect(() => openBlob(key, sealed.subarray(0, 20), 'tree 1')).toThrow(StoreDamagedError)
  })
})
