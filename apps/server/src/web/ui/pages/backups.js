import { api } from '../api.js'
import { bytes, confirmAction, fill, h, pageHeading, status, table, time, timeText } from '../dom.js'
import { holdsSection, retentionSection } from './backup-policies.js'
import { restoreCommand, snapshotHref } from './snapshot.js'

// Endpoint backups, for administrators (#/backups): the store's integrity (the last scrub, and a
// scrub now), its space (the last garbage collection, and one now), every device's snapshots (browse one: snapshot.js), the restore grants in force,
// retention policies and legal holds (backup-policies.js).

const SHOWN_FILES = 50

export async function render (main, ctx) {
  const [{ snapshots }, { devices }, { grants }, { policies }, { holds }, scrub, gc, space] = await Promise.all([
    api('GET', '/backup/snapshots'),
    api('GET', '/devices'),
    api('GET', '/backup/restore-grants'),
    api('GET', '/backup/retention'),
    api('GET', '/backup/holds'),
    api('GET', '/backup/scrub'),
    api('GET', '/backup/gc'),
    api('GET', '/backup/space')
  ])
  const deviceNames = new Map(devices.map(d => [d.deviceId, d.deviceName]))
  for (const s of snapshots) if (!deviceNames.has(s.deviceId)) deviceNames.set(s.deviceId, s.deviceName)
  const backupDevices = devices.filter(d => !d.revokedAt && d.deviceId !== ctx.me().org.deviceId)
  // The filter offers the devices that have backed up, and those that may.
  const filterDevices = new Map([...snapshots.map(s => [s.deviceId, s.deviceName]), ...backupDevices.map(d => [d.deviceId, d.deviceName])])

  const integrity = integritySection(scrub, () => snapshotList.reload())
  const snapshotList = snapshotsSection(snapshots, filterDevices, () => integrity.damagedSnapshots())
  const grantList = grantsSection(ctx, grants, deviceNames, snapshots)
  const afterForgetting = async () => { await snapshotList.reload() }
  fill(main,
    pageHeading('Backups'),
    h('p', { class: 'muted' }, 'Each device backs up to this server; only the server forgets snapshots, by the retention policies below, and never while a legal hold is on.'),
    integrity.el,
    spaceSection(gc.report, space),
    snapshotList.el,
    grantList.el,
    retentionSection(policies, backupDevices, deviceNames, afterForgetting),
    holdsSection(holds, backupDevices, deviceNames, afterForgetting))
}

/** " (1 missing from the store)" when some damaged chunks are not in any pack at all. */
function missingNote (report) {
  const missing = report.damaged.filter(d => d.where === 'in no pack').length
  return missing > 0 ? ` (${missing.toLocaleString()} missing from the store)` : ''
}

function snapshotsSection (initial, filterDevices, damaged) {
  const body = h('div', { id: 'snapshot-list' })
  let filter = ''
  const select = h('select', { id: 'snapshot-device', 'aria-describedby': 'snapshot-device-hint' },
    h('option', { value: '' }, 'All devices'),
    [...filterDevices].sort((a, b) => a[1].localeCompare(b[1])).map(([id, name]) => h('option', { value: id }, `${name} (${id})`)))
  const show = snapshots => {
    const bad = damaged()
    // Newest first.
    const rows = [...snapshots].reverse().map(s => h('tr', { 'data-snapshot': s.id },
      h('th', { scope: 'row' }, h('a', { href: snapshotHref(s.id), 'aria-label': `Browse the snapshot of ${s.deviceName} taken ${timeText(s.committedAt)}` }, timeText(s.committedAt)),
        h('code', { class: 'muted block' }, s.id)),
      h('td', {}, s.deviceName, h('code', { class: 'muted block' }, s.deviceId)),
      h('td', {}, s.user),
      h('td', {}, (s.counters.files ?? 0).toLocaleString()),
      h('td', {}, bytes(s.counters.bytes ?? 0)),
      h('td', {}, [s.held ? status('info', 'Held') : null, bad.has(s.id) ? status('bad', 'Damaged') : null].filter(Boolean).flatMap((b, i) => i === 0 ? [b] : [h('br'), b]))))
    fill(body, snapshots.length === 0
      ? h('p', {}, filter === '' ? 'No device has backed up yet: on a device, `aerie backup add PATH`, then `aerie backup run`.' : 'This device has no snapshots.')
      : table('Snapshots, newest first', ['Taken', 'Device', 'User', 'Files', 'Size', 'State'], rows))
  }
  const reload = async () => show((await api('GET', `/backup/snapshots${filter === '' ? '' : `?${new URLSearchParams({ device: filter })}`}`)).snapshots)
  select.addEventListener('change', () => {
    filter = select.value
    reload().catch(err => fill(body, h('p', { role: 'alert' }, status('bad', `Could not list the snapshots: ${err.message}`))))
  })
  show(initial)
  return {
    reload,
    el: h('section', { class: 'panel', 'aria-labelledby': 'snapshots-title' },
      h('h2', { id: 'snapshots-title' }, 'Snapshots'),
      h('div', { class: 'field narrow-field' }, h('label', { for: 'snapshot-device' }, 'Device'), select,
        h('p', { class: 'hint', id: 'snapshot-device-hint' }, 'Open a snapshot to browse it, download a file or restore it to a device.')),
      body)
  }
}

function grantsSection (ctx, initial, deviceNames, snapshots) {
  const body = h('div', { id: 'grant-list' })
  const snapshotOf = id => snapshots.find(s => s.id === id)
  const show = grants => {
    const rows = grants.map(g => {
      const from = snapshotOf(g.snapshotId)
      const to = deviceNames.get(g.deviceId) ?? g.deviceId
      return h('tr', { 'data-grant': g.id },
        h('th', { scope: 'row' }, h('a', { href: snapshotHref(g.snapshotId) }, from ? `${from.deviceName}, ${timeText(from.committedAt)}` : g.snapshotId),
          h('code', { class: 'muted block' }, g.snapshotId)),
        h('td', {}, to),
        h('td', {}, g.grantedBy, h('span', { class: 'muted block' }, time(g.grantedAt))),
        h('td', {}, time(g.expiresAt)),
        h('td', {}, h('code', { class: 'wrap' }, restoreCommand(g.snapshotId))),
        h('td', {}, h('button', {
          type: 'button',
          class: 'danger small',
          'aria-label': `Revoke ${to}'s grant`,
          onclick: async () => {
            const sure = await confirmAction(`Revoke ${to}'s grant?`, `${to} can no longer open this snapshot. A restore it is running now finishes.`, 'Revoke grant')
            if (!sure) return
            try {
              await api('DELETE', `/backup/restore-grants/${encodeURIComponent(g.id)}`)
              ctx.toast(`${to} can no longer restore that snapshot`)
              show((await api('GET', '/backup/restore-grants')).grants)
              body.closest('section').querySelector('h2').focus()
            } catch (err) {
              ctx.toast(`Could not revoke: ${err.message}`)
            }
          }
        }, 'Revoke')))
    })
    fill(body, grants.length === 0
      ? h('p', {}, 'None. Open a snapshot and choose “Restore to a device…” to let another device restore it.')
      : table('Restore grants in force', ['Snapshot', 'Device', 'Granted by', 'Until', 'Command on that device', 'Action'], rows))
  }
  show(initial)
  return {
    el: h('section', { class: 'panel', 'aria-labelledby': 'grants-title' },
      h('h2', { id: 'grants-title', tabindex: '-1' }, 'Restore grants'),
      h('p', { class: 'muted' }, 'A device restores its own snapshots; another device\'s only with a grant, until it ends.'),
      body)
  }
}

/** `initial`: GET /backup/scrub's answer (the last report, and the running scrub's progress). */
function integritySection (initial, onScrubbed) {
  let report = initial.report
  const body = h('div', { id: 'scrub-report' })
  const announce = h('p', { id: 'scrub-status', role: 'status' })
  const button = h('button', { type: 'button', id: 'scrub-now' }, 'Scrub now')
  const section = h('section', { class: 'panel', 'aria-labelledby': 'integrity-title' },
    h('h2', { id: 'integrity-title' }, 'Integrity'),
    h('p', { class: 'muted' }, 'A scrub reads back every chunk in the store and names the snapshots and central-copy files that need a damaged one. The server scrubs daily.'),
    body,
    h('div', { class: 'actions' }, button),
    announce)
  const finished = () => report.damaged.length === 0 ? status('ok', 'Scrub finished: no damage found.') : status('bad', `Scrub finished: ${report.damaged.length} damaged ${report.damaged.length === 1 ? 'chunk' : 'chunks'} found${missingNote(report)}.`)
  // A final word (the scrub's end) outranks a progress answer that was on its way meanwhile.
  let finals = 0
  let asking = false
  /**
   * While a scrub runs (this page's, the daily one, or `aerie-server scrub --now`): how far it
   * is, asked each second; then its report. Ends with the scrub, or when the page is left.
   */
  const follow = async (progress) => {
    if (asking) return
    asking = true
    try {
      while (progress && section.isConnected) {
        fill(announce, scrubProgressText(progress))
        await new Promise(resolve => setTimeout(resolve, 1000))
        const seen = finals
        const answer = await api('GET', '/backup/scrub')
        if (seen !== finals || !section.isConnected) return
        progress = answer.running
        // A scrub this page did not start ended: show its report (the button's own shows when its answer comes).
        if (!progress && !button.disabled) {
          report = answer.report
          show()
          await onScrubbed()
          finals++
          fill(announce, finished())
        }
      }
    } finally {
      asking = false
    }
  }
  onLongTask(button, section, announce, {
    busyLabel: 'Scrubbing…',
    busyText: 'Scrubbing: reading back every chunk. This can take a while on a large store.',
    failure: 'Could not scrub'
  }, async () => {
    const answer = api('POST', '/backup/scrub')
    void follow({ phase: 'reading', checked: 0, total: 0, pace: 0 }).catch(() => {})
    report = (await answer).report
    finals++
    show()
    await onScrubbed()
    return finished()
  })
  const show = () => {
    if (!report) {
      fill(body, h('p', {}, 'No scrub has run yet.'))
      return
    }
    const damaged = report.damaged.length > 0
    fill(body,
      h('dl', { class: 'facts' },
        h('dt', {}, 'Last scrub'), h('dd', {}, time(report.finishedAt)),
        h('dt', {}, 'Chunks checked'), h('dd', {}, report.checked.toLocaleString()),
        h('dt', {}, 'Damaged'), h('dd', { id: 'scrub-damaged' }, damaged ? status('bad', `${report.damaged.length.toLocaleString()} ${report.damaged.length === 1 ? 'chunk' : 'chunks'}${missingNote(report)}`) : status('ok', 'None'))),
      report.error ? h('p', {}, status('warn', `The scrub did not finish: ${report.error}. What it read is shown.`)) : null,
      damaged ? damageReport(report) : null)
  }
  show()
  if (initial.running) void follow(initial.running).catch(() => {})
  return { el: section, damagedSnapshots: () => new Set(report?.snapshots.map(s => s.id) ?? []) }
}

/** How far a running scrub is, in words. */
function scrubProgressText ({ phase, checked, total, pace }) {
  if (phase === 'tracing') return `Scrubbing: ${checked.toLocaleString()} chunks read back; now finding what the snapshots and the central copy need.`
  if (total === 0) return 'Scrubbing: reading back every chunk. This can take a while on a large store.'
  const paced = pace > 0 ? ` The daily scrub reads at ${bytes(pace)}/s to leave the disk to the devices; Scrub now runs it at full speed.` : ''
  return `Scrubbing: ${checked.toLocaleString()} of ${total.toLocaleString()} chunks read back (${Math.floor(100 * checked / total)}%).${paced}`
}

/**
 * The store's size and its disk's room (backups are refused once only the share kept free is
 * left), the last garbage collection, and one now: what forgotten snapshots and pruned
 * versions alone needed is freed.
 */
function spaceSection (initial, initialSpace) {
  let report = initial
  let space = initialSpace
  const usage = h('div', { id: 'store-space' })
  const body = h('div', { id: 'gc-report' })
  const announce = h('p', { id: 'gc-status', role: 'status' })
  const button = h('button', { type: 'button', id: 'gc-now', class: 'secondary' }, 'Free space now')
  const section = h('section', { class: 'panel', 'aria-labelledby': 'space-title' },
    h('h2', { id: 'space-title' }, 'Space'),
    usage,
    h('p', { class: 'muted' }, 'Forgetting a snapshot frees nothing by itself. A garbage collection frees the chunks that no snapshot, no central-copy file and no backup in progress needs any more; anything stored or used in the last day is kept. The server collects daily.'),
    body,
    h('div', { class: 'actions' }, button),
    announce)
  const showUsage = () => {
    const { store, disk } = space
    fill(usage, h('dl', { class: 'facts' },
      h('dt', {}, 'Stored'), h('dd', {}, `${store.chunks.toLocaleString()} ${store.chunks === 1 ? 'chunk' : 'chunks'}, ${bytes(store.uniqueBytes)} of data (each chunk once), ${bytes(store.storedBytes)} on disk`),
      h('dt', {}, 'Disk'), h('dd', { id: 'store-disk' }, diskText(disk, space.fullSince))))
  }
  const show = () => {
    if (!report) {
      fill(body, h('p', {}, 'No collection since the server started (the audit log lists earlier ones).'))
      return
    }
    fill(body, h('dl', { class: 'facts' },
      h('dt', {}, 'Last collection'), h('dd', {}, time(report.finishedAt)),
      h('dt', {}, 'Chunks still needed'), h('dd', {}, report.live.toLocaleString()),
      h('dt', {}, 'Freed'), h('dd', { id: 'gc-freed' }, report.skipped
        ? status('warn', `Nothing freed: ${report.skipped}`)
        : `${report.swept.toLocaleString()} ${report.swept === 1 ? 'chunk' : 'chunks'} (${bytes(report.sweptBytes)} of data); ${bytes(Math.max(0, report.freedBytes))} of disk given back`)))
  }
  onLongTask(button, section, announce, {
    busyLabel: 'Collecting…',
    busyText: 'Collecting: finding what is still needed, then freeing the rest.',
    failure: 'Could not collect'
  }, async () => {
    report = (await api('POST', '/backup/gc')).report
    show()
    space = await api('GET', '/backup/space')
    showUsage()
    return status('ok', `Collection finished: ${bytes(Math.max(0, report.freedBytes))} freed.`)
  })
  show()
  showUsage()
  return section
}

/** The disk's room in words, warning (not by colour alone) while it runs low and once backups are refused. */
function diskText ({ free, total, kept }, fullSince) {
  const room = `${bytes(free)} free of ${bytes(total)}`
  if (fullSince || free <= kept) return status('bad', `Full: ${room}. Backups are refused${fullSince ? ` since ${timeText(fullSince)}` : ''} until space is freed; ${bytes(kept)} (1%) is kept for the server's own databases.`)
  if (free < total / 10) return status('warn', `Low: ${room}. Backups are refused once only ${bytes(kept)} is left.`)
  return room
}

/**
 * A button that starts a task the server answers only when done (a scrub, a collection): while
 * it runs the button says `busyLabel` and is off, its section is aria-busy, and `announce` says
 * `busyText`; then `announce` says what `run` returns, or why it failed.
 */
function onLongTask (button, section, announce, { busyLabel, busyText, failure }, run) {
  const label = button.textContent
  button.addEventListener('click', async () => {
    button.disabled = true
    button.textContent = busyLabel
    section.setAttribute('aria-busy', 'true')
    fill(announce, busyText)
    try {
      fill(announce, await run())
    } catch (err) {
      fill(announce, status('bad', `${failure}: ${err.message}`))
    } finally {
      button.disabled = false
      button.textContent = label
      section.removeAttribute('aria-busy')
    }
  })
}

/** What the damage hurts, prominently: in words and icons, not by colour alone. */
function damageReport (report) {
  const fileList = files => h('ul', { class: 'affected-files' },
    files.slice(0, SHOWN_FILES).map(f => h('li', {}, h('code', { class: 'wrap' }, f))),
    files.length > SHOWN_FILES ? h('li', {}, `… and ${(files.length - SHOWN_FILES).toLocaleString()} more`) : null)
  return h('div', { class: 'damage', id: 'damage-report' },
    h('h3', {}, h('span', { 'aria-hidden': 'true' }, '✕ '), 'Damage found'),
    h('p', {}, 'These files cannot be restored as backed up until the store is repaired. A device that still has them repairs it by syncing or backing them up again (the damaged chunks are sent anew).'),
    report.snapshots.length === 0 ? null : [
      h('h4', {}, `Affected snapshots (${report.snapshots.length})`),
      h('ul', { class: 'plain affected' }, report.snapshots.map(s => h('li', { 'data-snapshot': s.id },
        h('a', { href: snapshotHref(s.id) }, `${s.deviceName}, ${timeText(s.committedAt)}`), ` (${s.user}, snapshot `, h('code', {}, s.id), `): ${s.files.length} ${s.files.length === 1 ? 'file' : 'files'}`,
        fileList(s.files))))
    ],
    report.centralFiles.length === 0 ? null : [
      h('h4', {}, `Affected central-copy files (${report.centralFiles.length})`),
      h('ul', { class: 'affected-files' }, report.centralFiles.map(f => h('li', {}, h('code', { class: 'wrap' }, `${f.folder}/${f.path}`), f.version === 'current' ? ' (current version)' : ' (a kept version)')))
    ])
}
