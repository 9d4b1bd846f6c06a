import { api } from '../api.js'
import { bytes, confirmAction, errorBox, field, fill, h, onSubmit, pageHeading, status, table, time } from '../dom.js'

// Share links (#/shares; #/shares/new/FOLDER/PATH… opens the form for that file or directory,
// as the folder page's Share buttons do): make one, copy it (shown once), see each link's
// downloads and state, revoke.

const STATES = {
  active: ['ok', 'Active'],
  expired: ['off', 'Expired'],
  revoked: ['bad', 'Revoked'],
  exhausted: ['off', 'Used up']
}

/** The console's address of the form that shares `path` of a folder. */
export function shareHref (folderId, path = '') {
  return '#/shares/new/' + [folderId, ...(path === '' ? [] : path.split('/'))].map(encodeURIComponent).join('/')
}

function days (seconds) {
  const d = seconds / 86400
  return `${Number.isInteger(d) ? d : d.toFixed(1)} ${d === 1 ? 'day' : 'days'}`
}

export async function render (main, ctx, detail = []) {
  const me = ctx.me()
  const isAdmin = me.user.role === 'admin'
  const [mode, folderId, ...segments] = detail
  const preset = mode === 'new' && folderId !== undefined ? { folder: folderId, path: segments.join('/') } : undefined
  const [{ folders }, { shares }, policy] = await Promise.all([api('GET', '/folders'), api('GET', '/shares'), api('GET', '/share-policy')])

  const created = h('div', { id: 'share-created', 'aria-live': 'polite' })
  const listSection = h('section', { class: 'panel', 'aria-labelledby': 'shares-title' })

  const showList = list => {
    const rows = list.map(s => h('tr', { 'data-share': s.id },
      h('th', { scope: 'row', class: 'wrap' }, s.uploadOnly ? 'File drop into ' : '', h('strong', {}, s.name),
        h('span', { class: 'muted block' }, `${s.folder}${s.path === '' ? '' : `/${s.path}`}`)),
      h('td', {}, status(...STATES[s.state])),
      h('td', {}, s.uploadOnly ? '—' : s.maxDownloads === undefined ? String(s.downloads) : `${s.downloads} of ${s.maxDownloads}`),
      h('td', {}, time(s.expiresAt)),
      h('td', {}, [s.hasPassword ? 'Password' : null, s.snapshot ? 'Snapshot' : null, s.uploadOnly ? `Uploads up to ${bytes(s.maxUploadBytes)}` : null].filter(Boolean).join(', ') || '—'),
      isAdmin ? h('td', {}, s.createdBy) : null,
      h('td', {}, s.state === 'revoked' || s.state === 'expired' ? null : revokeButton(s))))
    fill(listSection,
      h('h2', { id: 'shares-title' }, isAdmin ? 'All share links' : 'Your share links'),
      list.length === 0
        ? h('p', {}, 'No share links yet.')
        : table('Share links, newest first', ['Shared', 'State', 'Downloads', 'Expires', 'Terms', isAdmin ? 'Made by' : null, 'Action'].filter(Boolean), rows))
  }

  const reload = async () => showList((await api('GET', '/shares')).shares)

  const revokeButton = s => h('button', {
    type: 'button',
    class: 'danger small',
    'aria-label': `Revoke the link to ${s.name}`,
    onclick: async () => {
      const sure = await confirmAction(`Revoke the link to ${s.name}?`, 'Anyone who opens it from now on is told it was withdrawn. This cannot be undone; you can make a new link.', 'Revoke link')
      if (!sure) return
      try {
        await api('DELETE', `/shares/${encodeURIComponent(s.id)}`)
        ctx.toast(`The link to ${s.name} is revoked`)
        await reload()
        listSection.querySelector('h2').setAttribute('tabindex', '-1')
        listSection.querySelector('h2').focus()
      } catch (err) {
        ctx.toast(`Could not revoke: ${err.message}`)
      }
    }
  }, 'Revoke')

  const errors = errorBox()
  const uploadOnly = h('input', { type: 'checkbox', name: 'uploadOnly', id: 'share-upload-only' })
  const downloadsField = field('Download limit (optional)', h('input', { name: 'maxDownloads', id: 'share-max-downloads', type: 'number', min: 1, step: 1, inputmode: 'numeric' }),
    'The link stops working after this many downloads.')
  uploadOnly.addEventListener('change', () => { downloadsField.hidden = uploadOnly.checked })
  const form = h('form', { class: 'panel', novalidate: true, id: 'share-form', 'aria-labelledby': 'share-form-title' },
    h('h2', { id: 'share-form-title' }, 'Make a share link'),
    h('p', {}, 'Anyone with the link can open it without signing in, until it expires or you revoke it.',
      ` Links live at most ${days(policy.maxLifetimeSeconds)}${policy.passwordRequired ? ' and need a password' : ''}.`),
    h('div', { class: 'row' },
      field('Folder', h('select', { name: 'folder', id: 'share-folder', required: true },
        folders.map(f => h('option', { value: f.id, selected: preset?.folder === f.id }, f.label)))),
      field('File or directory', h('input', { name: 'path', id: 'share-path', value: preset?.path ?? '', maxlength: 4096, autocomplete: 'off' }),
        'Relative to the folder, like plans/budget.xlsx; empty shares the whole folder.')),
    h('div', { class: 'row' },
      field('Expires in (days)', h('input', { name: 'days', id: 'share-days', type: 'number', min: 1, step: 1, max: Math.floor(policy.maxLifetimeSeconds / 86400) || 1, value: Math.min(7, Math.floor(policy.maxLifetimeSeconds / 86400) || 1), required: true, inputmode: 'numeric' })),
      field(policy.passwordRequired ? 'Password' : 'Password (optional)', h('input', { name: 'password', id: 'share-password', type: 'password', autocomplete: 'new-password', minlength: 8, maxlength: 1024, required: policy.passwordRequired }),
        'At least 8 characters. Send it apart from the link.'),
      downloadsField),
    h('div', { class: 'field check' }, h('label', {}, uploadOnly, ' Upload only (a file drop: people send files into this directory and see nothing)')),
    h('div', { class: 'field check' }, h('label', {}, h('input', { type: 'checkbox', name: 'snapshot', id: 'share-snapshot' }), ' Snapshot: share the files as they are now (a file changed later is no longer served)')),
    errors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Make link')))

  onSubmit(form, errors, async data => {
    const daysText = String(data.get('days') ?? '').trim()
    if (!/^\d+$/.test(daysText) || Number(daysText) < 1) throw new Error('Enter how many days the link lives, as a whole number.')
    const body = { folder: String(data.get('folder')), path: String(data.get('path') ?? '').trim().replace(/^\/+|\/+$/g, ''), expiresIn: Number(daysText) * 86400 }
    const password = String(data.get('password') ?? '')
    if (password !== '') body.password = password
    if (data.get('uploadOnly') === 'on') body.uploadOnly = true
    else {
      const limit = String(data.get('maxDownloads') ?? '').trim()
      if (limit !== '') {
        if (!/^\d+$/.test(limit) || Number(limit) < 1) throw new Error('Enter the download limit as a whole number, or leave it empty.')
        body.maxDownloads = Number(limit)
      }
    }
    if (data.get('snapshot') === 'on') body.snapshot = true
    const result = await api('POST', '/shares', body)
    const urlInput = h('input', { id: 'share-url', readonly: true, value: result.url, class: 'wrap', 'aria-describedby': 'share-url-hint' })
    fill(created, h('section', { class: 'panel highlight', 'aria-labelledby': 'created-title' },
      h('h2', { id: 'created-title', tabindex: '-1' }, `Link to ${result.share.name}`),
      field('Link', urlInput),
      h('p', { class: 'hint', id: 'share-url-hint' }, 'Copy it now: it is shown only once (the server keeps only a hash of it).'),
      h('div', { class: 'actions' }, h('button', {
        type: 'button',
        id: 'share-copy',
        onclick: async () => {
          try {
            await navigator.clipboard.writeText(result.url)
            ctx.toast('Link copied')
          } catch {
            urlInput.select()
            ctx.toast('Select the link and copy it (Ctrl+C)')
          }
        }
      }, 'Copy link'))))
    form.reset()
    created.querySelector('h2').focus()
    await reload()
  })

  fill(main, pageHeading('Share links'), form, created, listSection)
  showList(shares)
  if (preset) form.querySelector('#share-days').focus()
}
