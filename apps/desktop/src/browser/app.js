import { api, ApiError, liveStatus, login, takeSecretFromUrl } from './api.js'
import { h } from './dom.js'
import * as backup from './pages/backup.js'
import * as dashboard from './pages/dashboard.js'
import * as folder from './pages/folder.js'
import * as settings from './pages/settings.js'
import * as share from './pages/share.js'

// One page: the hash names the screen (#/, #/folder/ID, #/share, #/backup, #/settings). The agent pushes its
// status (server-sent events); the screen shown gets each one through `update`, and
// changes only what changed, so focus and typing are never lost to a refresh.

const PAGES = { dashboard, folder, settings, share, backup }
const main = document.getElementById('main')
const state = { status: undefined, page: undefined, view: undefined }

function toast (message) {
  const el = document.getElementById('toast')
  el.textContent = message
  el.classList.add('visible')
  clearTimeout(toast.timer)
  toast.timer = setTimeout(() => el.classList.remove('visible'), 6000)
}

function parseHash () {
  const [name = '', ...rest] = location.hash.replace(/^#\/?/, '').split('/')
  try {
    return { name: name || 'dashboard', detail: rest.filter(s => s !== '').map(decodeURIComponent) }
  } catch {
    return { name: 'dashboard', detail: [] }
  }
}

function renderChrome () {
  const { name } = parseHash()
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.page === name) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
  const s = state.status
  document.getElementById('who').replaceChildren(s ? h('span', { class: 'who-name' }, s.deviceName, h('span', { class: 'who-id' }, ` · ${s.deviceId}`)) : '')
}

async function route (event) {
  const { name, detail } = parseHash()
  const page = PAGES[name] ?? dashboard
  state.view?.dispose?.()
  state.page = page
  renderChrome()
  const ctx = { toast, status: () => state.status, api, go: (hash) => { location.hash = hash } }
  main.replaceChildren()
  state.view = page.render(main, ctx, detail)
  document.title = `${state.view.title ?? 'Aerie'} · Aerie`
  if (state.status) state.view.update?.(state.status)
  // After a move (not on the first page), a screen reader starts at the new screen.
  if (event !== undefined) main.focus({ preventScroll: true })
}

function showConnection (connected) {
  const banner = document.getElementById('connection')
  banner.hidden = connected
  if (!connected) banner.replaceChildren(h('span', { 'aria-hidden': 'true' }, '! '), 'Lost contact with the agent; trying again…')
}

async function start () {
  takeSecretFromUrl()
  try {
    await login()
  } catch (err) {
    main.replaceChildren(h('div', { class: 'card' },
      h('h1', {}, 'Open Aerie with its link'),
      h('p', {}, err instanceof ApiError && err.status === 401
        ? 'This page needs the link that carries the UI secret. In a terminal, run `aerie ui` and open the link it prints.'
        : err.message)))
    return
  }
  state.status = await api('GET', '/status')
  window.addEventListener('hashchange', route)
  await route()
  liveStatus(status => {
    state.status = status
    renderChrome()
    state.view?.update?.(status)
  }, showConnection)
}

start()
