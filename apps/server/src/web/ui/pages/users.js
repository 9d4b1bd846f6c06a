import { api } from '../api.js'
import { confirmAction, errorBox, field, fill, h, onSubmit, pageHeading, status, table, time } from '../dom.js'

export async function render (main, ctx) {
  const me = ctx.me()
  const { users } = await api('GET', '/users')
  const errors = errorBox()
  const form = h('form', { class: 'panel', novalidate: true, id: 'user-form' },
    h('h2', {}, 'Add a user'),
    h('div', { class: 'row' },
      field('Email', h('input', { name: 'email', type: 'email', required: true, id: 'user-email', autocomplete: 'off' })),
      field('Role', h('select', { name: 'role', id: 'user-role' }, h('option', { value: 'user' }, 'User'), h('option', { value: 'admin' }, 'Administrator'))),
      field('First password', h('input', { name: 'password', type: 'password', required: true, id: 'user-password', autocomplete: 'new-password' }),
        'At least 12 characters. Give it to them privately; they can change it.')),
    errors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Add user')))
  onSubmit(form, errors, async data => {
    await api('POST', '/users', { email: String(data.get('email')).trim(), role: data.get('role'), password: data.get('password') })
    ctx.toast(`${data.get('email')} can now sign in`)
    await render(main, ctx)
  })

  const act = (label, path, question, text) => async () => {
    if (question && !await confirmAction(question, text, label)) return
    try {
      await api('POST', path)
      await render(main, ctx)
    } catch (err) {
      ctx.toast(err.message)
    }
  }

  const rows = users.map(u => h('tr', {},
    h('th', { scope: 'row' }, u.email, u.id === me.user.id ? h('span', { class: 'muted' }, ' (you)') : null),
    h('td', {}, u.role === 'admin' ? 'Administrator' : 'User'),
    h('td', {}, u.totpEnabled ? status('ok', 'On') : status('warn', 'Off')),
    h('td', {}, u.disabled ? status('bad', 'Disabled') : status('ok', 'Active')),
    h('td', {}, time(u.createdAt)),
    h('td', { class: 'buttons' },
      u.id === me.user.id
        ? null
        : u.disabled
          ? h('button', { type: 'button', class: 'secondary small', onclick: act('Enable', `/users/${u.id}/enable`) }, 'Enable')
          : h('button', {
            type: 'button', class: 'danger small', 'aria-label': `Disable ${u.email}`,
            onclick: act('Disable', `/users/${u.id}/disable`, `Disable ${u.email}?`, 'They are signed out everywhere and their API tokens stop working, until enabled again.')
          }, 'Disable'),
      u.totpEnabled && u.id !== me.user.id
        ? h('button', {
          type: 'button', class: 'secondary small', 'aria-label': `Reset two-step sign-in of ${u.email}`,
          onclick: act('Reset', `/users/${u.id}/reset-two-factor`, `Reset two-step sign-in for ${u.email}?`, 'Only for a lost phone with no recovery codes left: they sign in with the password alone until they turn it on again.')
        }, 'Reset 2-step')
        : null)))

  fill(main, pageHeading('Users'), form,
    h('section', { class: 'panel' }, h('h2', {}, 'Accounts'), table('Users', ['Email', 'Role', 'Two-step sign-in', 'Status', 'Created', 'Actions'], rows)))
}
