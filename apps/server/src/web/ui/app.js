import { api, ApiError, setCsrfToken } from './api.js'
import { h } from './dom.js'
import * as account from './pages/account.js'
import * as audit from './pages/audit.js'
import * as backups from './pages/backups.js'
import * as dashboard from './pages/dashboard.js'
import * as devices from './pages/devices.js'
import * as folder from './pages/folder.js'
import * as folders from './pages/folders.js'
import * as login from './pages/login.js'
import * as setup from './pages/setup.js'
import * as shares from './pages/shares.js'
import * as snapshot from './pages/snapshot.js'
import * as users from './pages/users.js'

// The console is one page: the URL's hash names the screen (#/devices) and, for a screen with a
// `detail` page, what it shows (#/folders/ID/dir); /setup?token=… is first-run setup.

const PAGES = {
  dashboard: { page: dashboard, title: 'Dashboard', admin: true },
  devices: { page: devices, title: 'Devices' },
  folders: { page: folders, title: 'Folders', detail: folder },
  shares: { page: shares, title: 'Shares', detail: shares },
  backups: { page: backups, title: 'Backups', admin: true, detail: snapshot },
  users: { page: users, title: 'Users', admin: true },
  audit: { page: audit, title: 'Audit log', admin: true },
  account: { page: account, title: 'Account' }
}

const main = document.getElementById('main')
const state = { me: undefined }

function toast (message) {
  const el = document.getElementById('toast')
  el.textContent = message
  el.classList.add('visible')
  clearTimeout(toast.timer)
  toast.timer = setTimeout(() => el.classList.remove('visible'), 5000)
}

async function loadMe () {
  try {
    const me = await api('GET', '/me')
    setCsrfToken(me.csrfToken)
    state.me = me
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err
    state.me = undefined
  }
  return state.me
}

/** The screen's name and its detail (decoded path segments; undefined when they do not decode). */
function parseHash () {
  const [name = '', ...rest] = location.hash.replace(/^#\/?/, '').split('/')
  try {
    return { name, detail: rest.filter(s => s !== '').map(decodeURIComponent) }
  } catch {
    return { name, detail: undefined }
  }
}

function homeOf (me) {
  return me.user.role === 'admin' ? 'dashboard' : 'devices'
}

function renderChrome () {
  const nav = document.getElementById('nav')
  const who = document.getElementById('who')
  const me = state.me
  document.getElementById('org-name').textContent = me ? `· ${me.org.name}` : ''
  if (!me) {
    nav.hidden = true
    nav.replaceChildren()
    who.replaceChildren()
    return
  }
  const { name: shown, detail } = parseHash()
  const current = shown || homeOf(me)
  nav.hidden = false
  nav.replaceChildren(h('ul', {}, Object.entries(PAGES)
    .filter(([, p]) => !p.admin || me.user.role === 'admin')
    .map(([name, p]) => h('li', {}, h('a', { href: `#/${name}`, 'aria-current': name !== current ? undefined : detail?.length ? 'true' : 'page' }, p.title)))))
  who.replaceChildren(
    h('span', { class: 'who-name' }, me.user.email, me.user.role === 'admin' ? ' (admin)' : ''),
    h('button', { type: 'button', class: 'secondary small', id: 'sign-out', onclick: signOut }, 'Sign out'))
}

async function signOut () {
  try { await api('POST', '/logout') } catch {}
  state.me = undefined
  setCsrfToken(undefined)
  location.hash = '#/login'
}

async function onSignedIn () {
  await loadMe()
  // replaceState fires no hashchange, so the new screen is drawn once, here.
  history.replaceState(null, '', `/#/${homeOf(state.me)}`)
  await route()
}

async function route () {
  const ctx = { me: () => state.me, toast, refreshMe: loadMe, onSignedIn }
  if (location.pathname === '/setup') {
    renderChrome()
    document.title = 'Set up · Aerie'
    return show(setup, ctx)
  }
  if (state.me === undefined) await loadMe()
  const { name, detail } = parseHash()
  if (!state.me) {
    renderChrome()
    document.title = 'Sign in · Aerie'
    if (name !== 'login') history.replaceState(null, '', '/#/login')
    return show(login, ctx)
  }
  const entry = PAGES[name]
  const page = detail?.length ? entry?.detail : entry?.page
  if (page === undefined || (entry.admin && state.me.user.role !== 'admin')) {
    location.replace(`#/${homeOf(state.me)}`)
    return
  }
  renderChrome()
  document.title = `${entry.title} · Aerie`
  return show(page, ctx, detail)
}

async function show (page, ctx, detail) {
  main.replaceChildren(h('p', { class: 'loading' }, 'Loading…'))
  try {
    await page.render(main, ctx, detail)
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      state.me = undefined
      location.hash = '#/login'
      return
    }
    main.replaceChildren(h('div', { class: 'panel' }, h('h1', {}, 'Something went wrong'), h('p', { role: 'alert' }, err.message),
      h('button', { type: 'button', onclick: () => route() }, 'Try again')))
  }
  // Move focus to the new screen's heading, so keyboard and screen-reader users start at the top.
  const heading = main.querySelector('h1')
  if (heading) {
    heading.setAttribute('tabindex', '-1')
    heading.focus({ preventScroll: false })
  }
}

window.addEventListener('hashchange', () => {
  document.getElementById('toast').classList.remove('visible')
  void route()
})
void route()
