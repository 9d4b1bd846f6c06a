import { api } from '../api.js'
import { badge, busy, confirmAction, errorBox, field, fill, h, table, time } from '../dom.js'

// Share: public links to a file or directory of a synced folder, made by the organisation's
// team server (the agent asks it as `aerie share` does). #/share/FOLDER/PATH starts the form
// with that item, as the folder screen's "Share" buttons do. A link's URL is shown once.

const EXPIRY = [['3600', '1 hour'], ['86400', '1 day'], ['604800', '7 days'], ['2592000', '30 days']]
const STATES = {
  active: ['ok', 'Active'],
  expired: ['wait', 'Expired'],
  revoked: ['bad', 'Revoked'],
  exhausted: ['wait', 'Used up']
}

async function ask (request) {
  return await api('POST', '/shares', { request })
}

export function render (main, ctx, detail) {
  const [presetFolder, ...pathParts] = detail
  const notice = h('div')
  const made = h('div', { 'aria-live': 'polite' })
  const links = h('div')
  const errors = errorBox()

  const folder = h('select', { name: 'folder', required: true })
  const path = h('input', { name: 'path', autocomplete: 'off', value: pathParts.join('/') })
  const expires = h('select', { name: 'expires' }, EXPIRY.map(([value, label]) => h('option', { value, selected: value === '604800' }, label)))
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', minlength: 8 })
  const maxDownloads = h('input', { name: 'maxDownloads', type: 'number', min: 1, step: 1, inputmode: 'numeric' })
  const uploadOnly = h('input', { name: 'uploadOnly', type: 'checkbox', id: 'share-upload-only' })
  const create = h('button', { type: 'submit' }, 'Create link')
  const form = h('form', { class: 'card', 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title' }, 'Create a link'),
    field('Folder', folder),
    field('File or directory in the folder', path, 'Its path inside the folder, such as plans/q1.pdf; leave it empty for the whole folder.'),
    field('Expires after', expires),
    field('Password (optional)', password, 'At least 8 characters. Tell it to the recipient another way than the link.'),
    field('Download limit (optional)', maxDownloads, 'The link stops working after this many downloads.'),
    h('div', { class: 'field check' }, uploadOnly, h('label', { for: uploadOnly.id }, 'Upload only: a file drop into this directory; the recipient sees nothing in it')),
    errors.el,
    h('div', { class: 'actions' }, create))

  form.addEventListener('submit', async event => {
    event.preventDefault()
    await busy(create, errors, async () => {
      const request = { type: 'create', folder: folder.value, path: path.value.trim().replace(/^\/+|\/+$/g, ''), expiresIn: Number(expires.value) }
      if (password.value !== '') request.password = password.value
      if (maxDownloads.value !== '') request.maxDownloads = Number(maxDownloads.value)
      if (uploadOnly.checked) request.uploadOnly = true
      const answer = await ask(request)
      password.value = ''
      showLink(answer)
      await loadLinks()
    })
  })

  function showLink (answer) {
    const url = h('input', { readonly: true, value: answer.url, id: 'share-url' })
    const copy = h('button', {
      type: 'button',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(answer.url)
        } catch {
          // Without clipboard permission: select it, so Ctrl+C copies.
          url.select()
          if (!document.execCommand('copy')) { ctx.toast('Select the link and copy it with Ctrl+C'); return }
        }
        ctx.toast('Link copied to the clipboard')
      }
    }, 'Copy link')
    const what = answer.link.path === '' ? `the folder ${answer.link.folder}` : answer.link.path
    fill(made, h('section', { class: 'card', 'aria-labelledby': 'made-title' },
      h('h2', { id: 'made-title' }, badge('ok', answer.link.uploadOnly ? `File drop into ${what} made` : `Link to ${what} made`)),
      h('div', { class: 'field' }, h('label', { for: url.id }, 'The link'), h('div', { class: 'link-out' }, url, copy)),
      h('p', { class: 'hint' }, 'This is the only time the link is shown: the team server keeps only a fingerprint of it.')))
    copy.focus()
  }

  async function loadLinks () {
    let answer
    try {
      answer = await ask({ type: 'list' })
    } catch (err) {
      // No team server, or no account there: say so, plainly, instead of a form that cannot work.
      fill(notice, h('div', { class: 'card notice', role: 'status' },
        h('h2', {}, badge('warn', 'Share links are not available on this device')),
        h('p', {}, 'Links are made by your organisation\'s team server, for your account on it.'),
        h('p', {}, err.message)))
      form.hidden = true
      fill(links, '')
      return
    }
    fill(notice, '')
    form.hidden = false
    const rowErrors = errorBox()
    const rows = answer.links.map(link => {
      const [kind, text] = STATES[link.state] ?? ['info', link.state]
      const name = link.path === '' ? `${link.folder} (whole folder)` : `${link.folder}/${link.path}`
      return h('tr', {},
        h('td', {}, name),
        h('td', {}, badge(kind, text)),
        h('td', {}, link.uploadOnly ? 'upload only' : link.maxDownloads === undefined ? String(link.downloads) : `${link.downloads} of ${link.maxDownloads}`),
        h('td', {}, time(link.expiresAt)),
        h('td', {}, link.hasPassword ? 'yes' : 'no'),
        h('td', {}, link.state === 'active'
          ? h('button', {
            type: 'button',
            class: 'secondary small',
            'aria-label': `Revoke the link to ${name}`,
            onclick: async event => {
              const button = event.currentTarget
              if (!await confirmAction('Revoke this link?', `Whoever opens the link to ${name} is told it is gone, at once.`, 'Revoke')) return
              await busy(button, rowErrors, async () => {
                await ask({ type: 'revoke', id: link.id })
                ctx.toast('Link revoked')
                await loadLinks()
              })
            }
          }, 'Revoke')
          : ''))
    })
    fill(links, rowErrors.el, rows.length === 0
      ? h('p', {}, 'You have no share links yet.')
      : table('Your share links', ['Shared item', 'State', 'Downloads', 'Expires', 'Password', ''], rows))
  }

  main.append(h('h1', { id: 'page-title' }, 'Share links'),
    h('p', { class: 'lead' }, 'A link lets someone outside the organisation download a file or folder (or upload into one), until it expires, is revoked or is used up.'),
    notice, form, made,
    h('section', { 'aria-labelledby': 'links-title' }, h('h2', { id: 'links-title' }, 'Your links'), links))
  loadLinks()

  let folderKey = ''
  return {
    title: 'Share',
    update (status) {
      const key = JSON.stringify(status.folders.map(f => [f.id, f.label]))
      if (key === folderKey) return
      folderKey = key
      const chosen = folder.value || presetFolder
      fill(folder, status.folders.map(f => h('option', { value: f.id, selected: f.id === chosen }, `${f.label} (${f.id})`)))
    }
  }
}
