import { mkdir, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { InvalidInputError, ProtocolError, UntrustedPeerError } from '../errors.ts'
import { sha256Hex } from '../pki/bytes.ts'
import { writeFileAtomic } from '../util/atomic-file.ts'
import { canonicalBytes, checkMembership } from './membership.ts'
import type { Crl } from '../pki/index.ts'
import type { SignedMembership } from './membership.ts'

export interface MembershipStoreOptions {
  caCertificate: string
  /** Asked at every check, so a revocation learnt later applies (e.g. `() => trust.currentCrl()`). */
  crl?: () => Crl | undefined
  now?: () => Date
}

export type OfferResult = 'adopted' | 'same' | 'older'

/** The newest verified membership record of each folder this device knows, one JSON file per folder. */
export interface MembershipStore {
  /** Files that could not be loaded, with why; they are left on disk untouched until replaced. */
  readonly problems: ReadonlyArray<{ file: string, message: string }>
  get (folder: string): SignedMembership | undefined
  list (): SignedMembership[]
  /**
   * Verifies a record (usually from a peer) and keeps it if it is newer than the one held. The
   * owner is pinned by the held record, or by `pinnedOwner`. A record with the held version but
   * other content is a ProtocolError: the owner never signs two records with one version.
   */
  offer (signed: unknown, pinnedOwner?: string): Promise<OfferResult>
  /** For records made on this device: as offer, but an older record is an InvalidInputError. */
  put (signed: SignedMembership): Promise<void>
}

const FILE = /^[0-9a-f]{64}\.json$/

/** Opens (creating if needed) the store in `dir`, verifying every record in it again. */
export async function openMembershipStore (dir: string, options: MembershipStoreOptions): Promise<MembershipStore> {
  const { caCertificate, crl, now } = options
  const held = new Map<string, { signed: SignedMembership, notAfter: number }>()
  const problems: Array<{ file: string, message: string }> = []
  const writes = new Map<string, Promise<void>>()

  function check (signed: unknown, pinnedOwner?: string) {
    const current = crl?.()
    const at = now?.()
    const { signed: checked, signer } = checkMembership(signed, {
      caCertificate,
      ...(current === undefined ? {} : { crl: current }),
      ...(at === undefined ? {} : { now: at }),
      ...(pinnedOwner === undefined ? {} : { pinnedOwner })
    })
    return { signed: checked, notAfter: signer.notAfter.getTime() }
  }

  await mkdir(dir, { recursive: true })
  for (const name of (await readdir(dir)).sort()) {
    if (!FILE.test(name)) continue
    const file = join(dir, name)
    try {
      const entry = check(JSON.parse(await readFile(file, 'utf8')))
      if (fileName(entry.signed.record.folder) !== name) throw new Error(`it holds folder "${entry.signed.record.folder}", which belongs in another file`)
      held.set(entry.signed.record.folder, entry)
    } catch (err) {
      problems.push({ file, message: `membership record ${file} was not loaded: ${(err as Error).message}` })
    }
  }

  // Writes of one folder go in order and always write the newest held record, so a slow write of
  // an older version can never land after a newer one.
  function persist (folder: string): Promise<void> {
    const write = (writes.get(folder) ?? Promise.resolve()).catch(() => {}).then(async () => {
      const entry = held.get(folder)
      if (entry !== undefined) await writeFileAtomic(join(dir, fileName(folder)), JSON.stringify(entry.signed, null, 2) + '\n')
    })
    writes.set(folder, write)
    return write
  }

  async function offer (signed: unknown, pinnedOwner?: string): Promise<OfferResult> {
    const folder = (signed as SignedMembership | undefined)?.record?.folder
    const current = typeof folder === 'string' ? held.get(folder) : undefined
    // The held record pins the owner; a different one is refused below even when `pinnedOwner` agrees with it.
    const candidate = check(signed, pinnedOwner ?? current?.signed.record.owner)
    const { record } = candidate.signed
    if (current !== undefined && record.owner !== current.signed.record.owner) {
      throw new UntrustedPeerError(`folder "${record.folder}" is owned by device ${current.signed.record.owner}, but this membership record was made by ${record.owner}; only the owner can change who is a member`)
    }
    if (current === undefined || record.version > current.signed.record.version) {
      held.set(record.folder, candidate)
      await persist(record.folder)
      return 'adopted'
    }
    if (record.version < current.signed.record.version) return 'older'
    if (!canonicalBytes(record).equals(canonicalBytes(current.signed.record))) {
      throw new ProtocolError(`folder "${record.folder}" has two different membership records with version ${record.version}; the owner device never makes two, so one of them is forged or the owner's key was copied`)
    }
    // The same record under a renewed owner certificate: keep the one that stays valid longer.
    if (candidate.notAfter > current.notAfter) {
      held.set(record.folder, candidate)
      await persist(record.folder)
    }
    return 'same'
  }

  return {
    problems,
    get: folder => held.get(folder)?.signed,
    list: () => [...held.values()].map(entry => entry.signed),
    offer,
    async put (signed) {
      if (await offer(signed) === 'older') {
        const version = held.get(signed.record.folder)?.signed.record.version
        throw new InvalidInputError(`folder "${signed.record.folder}" already has membership version ${String(version)}; make the change on the newest record`)
      }
    }
  }
}

/** Safe for any folder id on any file system: fixed length, hex only. */
function fileName (folder: string): string {
  return sha256Hex(Buffer.from(folder, 'utf8')) + '.json'
}
