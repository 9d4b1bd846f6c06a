import type { UiFolderStatus, UiStatus } from '../src/node/ui/ui-api.ts'

/** A status as the agent's UI API gives it, for the shell's tests. */
export function uiStatus (folders: Array<Partial<UiFolderStatus>> = [], extra: Partial<UiStatus> = {}): UiStatus {
  return {
    deviceId: 'aaaaaaaaaaaaaaaa',
    deviceName: 'laptop',
    user: 'ada@example.com',
    peerId: 'Qm',
    addresses: [],
    caHolder: false,
    enrollmentOpen: false,
    revoked: false,
    peers: [{ deviceId: 'bbbbbbbbbbbbbbbb', deviceName: 'desk', user: 'ada@example.com', peerId: 'Qm2', connected: true, bytesIn: 0, bytesOut: 0 }],
    offers: [],
    certificateName: 'laptop',
    settings: { deviceName: 'laptop', lanOnly: false, uploadLimit: 0, downloadLimit: 0, minDiskFree: 1 },
    bandwidth: { upload: { bytes: 0, delayedBytes: 0, waits: 0, waitedMs: 0, rate: 0 }, download: { bytes: 0, delayedBytes: 0, waits: 0, waitedMs: 0, rate: 0 } },
    folders: folders.map((f, i) => ({
      id: `f${i}`,
      label: `Folder ${i}`,
      path: `/data/f${i}`,
      state: 'idle',
      files: 3,
      problems: [],
      needFiles: 0,
      needBytes: 0,
      inSync: true,
      members: [{ deviceId: 'aaaaaaaaaaaaaaaa', role: 'owner' }, { deviceId: 'bbbbbbbbbbbbbbbb', role: 'editor' }],
      pullProblems: [],
      conflicts: 0,
      ...f
    } as UiFolderStatus)),
    ...extra
  }
}
