import { api, query } from '../api.js'
import { badge, busy, bytes, confirmAction, duration, errorBox, field, fill, h, table, time } from '../dom.js'

// Backup: what this device backs up to the team server (paths, excludes, schedule), the last
// and next run, "Back up now" with its progress, the snapshots, a snapshot's tree, and restore
// into a chosen directory (never over existing files unless confirmed).

const SCHEDULES = [['off', 'Off (only by hand)'], ['15m', 'Every 15 minutes'], ['1h', 'Every hour'], ['6h', 'Every 6 hours'], ['1d', 'Every day']]
const POLL_MS = 500
/** A restore's files that were not written, listed on the screen (the notification names three). */
const FAILED_SHOWN = 100

export function render (main, ctx) {
  const set = h('div')
  const runs = h('div')
  const progress = h('div', { 'aria-live': 'polite' })
  const snapshots = h('div')
  const tree = h('section', { 'aria-labelledby': 'tree-title', hidden: true })
  const restoreBox = h('section', { 'aria-labelledby': 'restore-title', hidden: true })
  const runErrors = errorBox()
  const run = h('button', { type: 'button', disabled: true }, 'Back up now')
  let disposed = false

  main.append(h('h1', { id: 'page-title' }, 'Backup'),
    h('p', { class: 'lead' }, 'This device backs up the paths below to your organisation\'s team server. Only what the server does not have yet is sent.'),
    h('section', { 'aria-labelledby': 'set-title' }, h('h2', { id: 'set-title' }, 'What is backed up'), set),
    h('section', { 'aria-labelledby': 'runs-title' }, h('h2', { id: 'runs-title' }, 'Runs'), runs, h('div', { class: 'actions' }, run), runErrors.el, progress),
    h('section', { 'aria-labelledby': 'snapshots-title' }, h('h2', { id: 'snapshots-title' }, 'Snapshots'), snapshots),
    tree, restoreBox)

  /** A line of progress: bytes, files, rate and time left, in words beside the bar. */
  function showProgress (job, what, target) {
    const p = job.progress
    const rate = job.transfer?.bytesPerSecond
    fill(target, h('div', { class: 'card' },
      h('p', {}, job.state === 'running' ? badge('sync', `${what} running`) : job.state === 'done' ? badge('ok', `${what} finished`) : badge('bad', `${what} failed`)),
      job.state === 'running' ? h('progress', { max: Math.max(p.needBytes, p.bytes, 1), value: p.bytes, 'aria-label': `Progress of the ${what.toLowerCase()}` }) : '',
      h('p', { class: 'facts' },
        `${bytes(p.bytes)}${p.needBytes > 0 ? ` of ${bytes(p.needBytes)}` : ''} · ${p.files}${p.needFiles > 0 ? ` of ${p.needFiles}` : ''} files`,
        p.sentBytes === undefined ? '' : ` · ${bytes(p.sentBytes)} sent`,
        rate === undefined ? '' : ` · ${bytes(rate)}/s`,
        job.transfer?.etaSeconds === undefined ? '' : ` · about ${duration(job.transfer.etaSeconds)} left`),
      outcome(job)))
  }

  /** How a job ended, in words that stay on the screen: for a restore, what went where, or which files did not. */
  function outcome (job) {
    const into = job.restore ? ` into ${job.restore.to}` : ''
    if (job.state === 'done' && job.kind === 'restore') {
      return h('p', { class: 'facts' }, badge('ok', `Restored ${plural(job.result.files, 'file')} (${bytes(job.result.bytes)})${into}`))
    }
    if (job.state !== 'failed') return ''
    const failed = job.result?.failed ?? []
    if (failed.length === 0) return h('p', { class: 'facts' }, badge('bad', job.error.message))
    return [
      h('p', { class: 'facts' }, badge('bad', `${plural(failed.length, 'file')} could not be restored; the rest were restored${into}`)),
      h('ul', { 'aria-label': 'Files not restored' }, failed.slice(0, FAILED_SHOWN).map(f => h('li', {}, h('code', {}, f.path), `: ${f.reason}`))),
      failed.length > FAILED_SHOWN ? h('p', { class: 'muted' }, `and ${failed.length - FAILED_SHOWN} more`) : '',
      h('p', {}, 'Each says why: fix what it names (disk space, permissions) and restore it again; if its backup copy is damaged, restore it from an older snapshot and ask an administrator to run a scrub (Scrub now on the console, or aerie-server scrub).')
    ]
  }

  /** Follows a job until it ends (bounded by the page: leaving it stops the polling). */
  async function follow (job, what, target = progress) {
    showProgress(job, what, target)
    while (job.state === 'running' && !disposed) {
      await new Promise(resolve => setTimeout(resolve, POLL_MS))
      job = await api('GET', `/backup/job?${query({ id: job.id })}`)
      showProgress(job, what, target)
    }
    return job
  }

  run.addEventListener('click', () => busy(run, runErrors, async () => {
    const job = await follow(await api('POST', '/backup/run'), 'Backup')
    if (job.state === 'done') ctx.toast(`Backed up: snapshot ${job.result.snapshot.id}`)
    await Promise.all([load(), loadSnapshots()])
  }))

  function listEditor (title, items, remove, label, hint, add, describeItem) {
    const errors = errorBox()
    const input = h('input', { autocomplete: 'off', required: true })
    const button = h('button', { type: 'submit', class: 'secondary' }, `Add ${label.toLowerCase()}`)
    const form = h('form', { 'aria-label': `Add ${label.toLowerCase()}` }, field(label, input, hint), h('div', { class: 'actions' }, button))
    form.addEventListener('submit', async event => {
      event.preventDefault()
      await busy(button, errors, async () => { await add(input.value); input.value = ''; await load() })
    })
    return h('div', { class: 'card' }, h('h3', {}, title),
      items.length === 0 ? h('p', { class: 'muted' }, 'None yet.') : h('ul', {}, items.map(item => h('li', {}, h('code', {}, item), ' ',
        h('button', {
          type: 'button',
          class: 'secondary small',
          'aria-label': `Remove ${describeItem(item)}`,
          onclick: event => busy(event.currentTarget, errors, async () => { await remove(item); await load() })
        }, 'Remove')))),
      errors.el, form)
  }

  async function load () {
    const state = await api('GET', '/backup')
    const { config } = state
    const scheduleErrors = errorBox()
    const schedule = h('select', { id: 'backup-schedule' }, SCHEDULES.map(([value, label]) => h('option', { value, selected: (config.schedule ?? 'off') === value }, label)),
      config.schedule !== undefined && !SCHEDULES.some(([v]) => v === config.schedule) ? h('option', { value: config.schedule, selected: true }, `Every ${config.schedule}`) : '')
    const save = h('button', { type: 'submit', class: 'secondary' }, 'Save schedule')
    const scheduleForm = h('form', { class: 'card', 'aria-label': 'Backup schedule' }, field('Schedule', schedule, 'The agent backs up on its own while it runs and the team server is online.'), scheduleErrors.el, h('div', { class: 'actions' }, save))
    scheduleForm.addEventListener('submit', async event => {
      event.preventDefault()
      await busy(save, scheduleErrors, async () => { await api('POST', '/backup/schedule', { every: schedule.value }); ctx.toast('Schedule saved'); await load() })
    })
    fill(set,
      listEditor('Paths', config.paths, path => api('POST', '/backup/paths/remove', { path }), 'Path to back up', 'A directory or file, its full path; ~/ is your home.', path => api('POST', '/backup/paths/add', { path }), path => `${path} from the backup`),
      listEditor('Excluded', config.excludes, pattern => api('POST', '/backup/excludes/remove', { pattern }), 'Pattern to exclude', 'Like a .gitignore line: *.tmp, node_modules/, cache/**', pattern => api('POST', '/backup/excludes/add', { pattern }), pattern => `the exclusion ${pattern}`),
      scheduleForm)
    fill(runs, h('dl', { class: 'facts-list' },
      h('dt', {}, 'Last backup'), h('dd', {}, state.lastRun ? [time(state.lastRun), state.lastSnapshot ? ` (snapshot ${state.lastSnapshot})` : ''] : 'never'),
      h('dt', {}, 'Next backup'), h('dd', {}, state.nextRun ? time(state.nextRun) : config.paths.length === 0 ? 'none: add a path first' : 'only when you start one')))
    run.disabled = config.paths.length === 0
    if (state.job?.state === 'running' && !run.dataset.following) {
      // A run started elsewhere (the schedule, the CLI): show it live too.
      run.dataset.following = 'yes'
      follow(state.job, state.job.kind === 'backup' ? 'Backup' : 'Restore').finally(() => { delete run.dataset.following; load(); loadSnapshots() })
    }
  }

  async function loadSnapshots () {
    let answer
    try {
      answer = await api('GET', '/restore/snapshots')
    } catch (err) {
      fill(snapshots, h('div', { class: 'card notice', role: 'status' }, h('p', {}, badge('warn', 'Snapshots cannot be listed now')), h('p', {}, err.message)))
      return
    }
    const list = [...answer.snapshots].reverse()
    fill(snapshots, list.length === 0 ? h('p', {}, 'No snapshots yet: "Back up now" makes the first.') : table('Snapshots of this device, newest first', ['Snapshot', 'Taken', 'Files', 'Size', 'Paths', ''], list.map(s => h('tr', {},
      h('td', {}, h('code', {}, s.id)),
      h('td', {}, time(s.startedAt)),
      h('td', {}, String(s.counters.files ?? 0)),
      h('td', {}, bytes(s.counters.bytes ?? 0)),
      h('td', {}, s.paths.map(p => h('code', { class: 'block' }, p))),
      h('td', {}, h('button', { type: 'button', class: 'secondary small', 'aria-label': `Browse snapshot ${s.id}`, onclick: () => browse(s.id, '') }, 'Browse'))))))
  }

  async function browse (snapshot, path) {
    const errors = errorBox()
    let answer
    try {
      answer = await api('GET', `/restore/browse?${query({ snapshot, path })}`)
    } catch (err) {
      ctx.toast(err.message)
      return
    }
    const parts = path.split('/').filter(Boolean)
    const crumbs = [h('button', { type: 'button', class: 'link', onclick: () => browse(snapshot, '') }, `snapshot ${snapshot}`)]
    parts.forEach((part, i) => crumbs.push(' / ', h('button', { type: 'button', class: 'link', onclick: () => browse(snapshot, parts.slice(0, i + 1).join('/')) }, part)))
    const full = name => (path === '' ? name : `${path}/${name}`)
    tree.hidden = false
    fill(tree, h('h2', { id: 'tree-title' }, 'In the snapshot'),
      h('nav', { 'aria-label': 'Snapshot directory', class: 'crumbs' }, crumbs),
      errors.el,
      answer.entries.length === 0 ? h('p', {}, 'Empty.') : table(`Items in ${path || 'the snapshot'}`, ['Name', 'Size', 'Modified', ''], answer.entries.map(e => h('tr', {},
        h('td', {}, e.type === 'dir'
          ? h('button', { type: 'button', class: 'link', 'aria-label': `Open ${e.name}`, onclick: () => browse(snapshot, full(e.name)) }, h('span', { 'aria-hidden': 'true' }, '📁 '), e.name)
          : [e.name, e.changed ? h('span', { class: 'muted' }, ' (changed while backed up)') : '']),
        h('td', {}, e.type === 'file' ? bytes(e.size) : '—'),
        h('td', {}, time(new Date(e.mtimeMs).toISOString())),
        h('td', {}, h('button', { type: 'button', class: 'secondary small', 'aria-label': `Restore ${e.name}`, onclick: () => showRestore(snapshot, full(e.name)) }, 'Restore…'))))),
      h('div', { class: 'actions' }, h('button', { type: 'button', class: 'secondary', onclick: () => showRestore(snapshot, path) }, path === '' ? 'Restore everything…' : `Restore ${parts.at(-1)}…`)))
    tree.querySelector('nav button:last-of-type')?.focus()
  }

  function showRestore (snapshot, path) {
    const errors = errorBox()
    const to = h('input', { autocomplete: 'off', required: true, placeholder: '/home/you/restored' })
    const start = h('button', { type: 'submit' }, 'Restore')
    const restoreProgress = h('div', { 'aria-live': 'polite' })
    const form = h('form', { class: 'card', 'aria-labelledby': 'restore-title' },
      h('h2', { id: 'restore-title' }, `Restore ${path === '' ? 'everything' : path}`),
      h('p', {}, `From snapshot ${snapshot}. Files are written whole, with their modes and times; existing files are never replaced unless you confirm.`),
      field('Restore into directory', to, 'A full path; ~/ is your home. The item goes inside it under its own name.'),
      errors.el, h('div', { class: 'actions' }, start), restoreProgress)
    form.addEventListener('submit', async event => {
      event.preventDefault()
      await busy(start, errors, async () => {
        let job = await follow(await api('POST', '/restore/start', { snapshot, path, to: to.value }), 'Restore', restoreProgress)
        if (job.state === 'failed' && job.error?.code === 'ERR_RESTORE_EXISTS') {
          if (!await confirmAction('Replace existing files?', `${job.error.message}. Restoring anyway replaces them with the snapshot's versions.`, 'Replace them')) return
          job = await follow(await api('POST', '/restore/start', { snapshot, path, to: to.value, overwrite: true }), 'Restore', restoreProgress)
        }
        // The outcome stays on screen (above): what was restored, or file by file what was not.
        if (job.state === 'failed' && job.error && !(job.result?.failed?.length > 0)) throw new Error(job.error.message)
      })
    })
    restoreBox.hidden = false
    fill(restoreBox, form)
    to.focus()
  }

  load().catch(err => ctx.toast(err.message))
  loadSnapshots()

  return {
    title: 'Backup',
    dispose () { disposed = true }
  }
}

function plural (n, word) {
  return `${n} ${n === 1 ? word : `${word}s`}`
}
