import type { UiStatus } from '../node/ui/ui-api.ts'

/**
 * What is worth a desktop notification between two statuses: new conflicts, a folder that
 * starts failing or waits for the person, and this device being revoked. Said once, when it
 * begins, never again on every poll. Pure, for tests.
 */
export interface Notice {
  title: string
  body: string
}

export function noticesBetween (before: UiStatus | undefined, after: UiStatus): Notice[] {
  const notices: Notice[] = []
  if (after.revoked && before?.revoked !== true) {
    notices.push({ title: 'This device was revoked', body: 'Your organisation revoked this device: it no longer syncs. Ask your administrator to enroll it again.' })
  }
  for (const folder of after.folders) {
    const was = before?.folders.find(f => f.id === folder.id)
    if (folder.conflicts > (was?.conflicts ?? 0)) {
      const n = folder.conflicts - (was?.conflicts ?? 0)
      notices.push({ title: `${n === 1 ? 'A conflict' : `${n} conflicts`} in "${folder.label}"`, body: 'Two devices changed the same file. Both versions are kept: open Aerie to choose.' })
    }
    if (folder.state === 'error' && was?.state !== 'error') {
      notices.push({ title: `"${folder.label}" cannot sync`, body: folder.error ?? 'Open Aerie to see why.' })
    }
    if (folder.state === 'needs-confirmation' && was?.state !== 'needs-confirmation') {
      notices.push({ title: `"${folder.label}" is waiting for you`, body: 'Many files seem to be gone. Open Aerie to confirm the deletions or restore the files.' })
    }
  }
  return notices
}
