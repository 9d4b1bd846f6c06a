import { badge, bytes, duration, h, time } from './dom.js'

// How a folder's state reads to a person: an icon and words, the same on every screen.

export function folderBadge (folder) {
  if (folder.state === 'error') return badge('bad', 'Error')
  if (folder.state === 'needs-confirmation') return badge('warn', 'Waiting for you')
  if (folder.state === 'paused') return badge('wait', 'Paused')
  if (folder.state === 'syncing') return badge('sync', 'Syncing')
  if (folder.state === 'scanning') return badge('sync', 'Scanning')
  if (folder.inSync) return badge('ok', 'Up to date')
  if (folder.needFiles > 0) return badge('wait', 'Waiting for peers')
  return badge('wait', 'Catching up')
}

export function entryBadge (entry) {
  if (entry.state === 'conflict') return badge('conflict', 'Conflict copy')
  if (entry.state === 'incoming') return badge('wait', 'Coming')
  if (entry.state === 'syncing') return badge('sync', 'Syncing')
  return badge('ok', 'Up to date')
}

/** What a folder is doing, in a few lines: progress, peers, when it was last in sync. */
export function folderFacts (folder, status) {
  const lines = []
  const pull = folder.pull
  if (pull !== undefined && folder.state === 'syncing') {
    const rate = folder.transfer?.bytesPerSecond
    lines.push(h('progress', { max: Math.max(pull.needBytes, 1), value: Math.min(pull.doneBytes, pull.needBytes), 'aria-label': `Progress of ${folder.label}` }))
    lines.push(h('p', { class: 'facts' },
      `${bytes(pull.doneBytes)} of ${bytes(pull.needBytes)} · ${pull.doneFiles} of ${pull.needFiles} items`,
      rate === undefined ? '' : ` · ${bytes(rate)}/s`,
      folder.transfer?.etaSeconds === undefined ? '' : ` · about ${duration(folder.transfer.etaSeconds)} left`))
  } else if (folder.needFiles > 0) {
    lines.push(h('p', { class: 'facts' }, `Needs ${folder.needFiles} ${folder.needFiles === 1 ? 'item' : 'items'} (${bytes(folder.needBytes)})`))
  }
  const others = folder.members.filter(m => m.deviceId !== status.deviceId)
  const online = others.filter(m => status.peers.some(p => p.deviceId === m.deviceId && p.connected))
  lines.push(h('p', { class: 'facts' },
    `${folder.files} ${folder.files === 1 ? 'item' : 'items'} · `,
    others.length === 0 ? 'not shared yet' : `${online.length} of ${others.length} ${others.length === 1 ? 'member' : 'members'} online`,
    ' · ',
    folder.inSync ? 'in sync now' : folder.lastInSync ? h('span', {}, 'last in sync ', time(folder.lastInSync)) : 'not in sync since the agent started'))
  if (folder.conflicts > 0) lines.push(h('p', { class: 'facts' }, badge('conflict', `${folder.conflicts} ${folder.conflicts === 1 ? 'conflict' : 'conflicts'} to resolve`)))
  if (folder.error) lines.push(h('p', { class: 'facts' }, badge('bad', folder.error)))
  if (folder.state === 'needs-confirmation') lines.push(h('p', { class: 'facts' }, badge('warn', 'Many files seem to be gone: open the folder to confirm or restore them')))
  for (const problem of folder.pullProblems.slice(0, 3)) lines.push(h('p', { class: 'facts' }, badge('warn', `Cannot sync ${problem.path}: ${problem.message}`)))
  if (folder.nextRetryAt) lines.push(h('p', { class: 'muted' }, 'Tried again at ', time(folder.nextRetryAt), ', or as soon as a member has news'))
  return lines
}

/** A device's name where it is known, else its id. */
export function deviceName (status, deviceId) {
  if (deviceId === status.deviceId) return `${status.deviceName} (this device)`
  return status.peers.find(p => p.deviceId === deviceId)?.deviceName ?? deviceId
}
