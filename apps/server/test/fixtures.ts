import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openServerMetadata } from '../src/metadata/server-db.ts'
import type { ServerMetadata } from '../src/metadata/stores.ts'

/** A real metadata database in a fresh temporary directory; dispose removes both. */
export interface TempMetadata extends Disposable {
  dir: string
  path: string
  metadata: ServerMetadata
}

export function tempMetadata (): TempMetadata {
  const dir = mkdtempSync(join(tmpdir(), 'aerie-server-'))
  const path = join(dir, 'metadata.sqlite')
  const metadata = openServerMetadata(path)
  return {
    dir,
    path,
    metadata,
    [Symbol.dispose] () {
      metadata.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
