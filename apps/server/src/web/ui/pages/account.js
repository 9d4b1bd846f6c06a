import { api } from '../api.js'
import { confirmAction, errorBox, field, fill, h, onSubmit, pageHeading, status, svgImage, table, time } from '../dom.js'

export async function render (main, ctx) {
  await ctx.refreshMe()
  const me = ctx.me()
  const { tokens } = await api('GET', '/tokens')
  fill(main,
    pageHeading('Account'),
    h('p', {}, `Signed in as ${me.user.email} (${me.user.role === 'admin' ? 'administrator' : 'user'}).`),
    twoStepSection(main, ctx, me),
    passwordSection(ctx),
    tokenSection(main, ctx, tokens))
}

function recoveryCodesPanel (codes, onDone) {
  return h('div', { class: 'highlight', id: 'recovery-codes' },
    h('h3', {}, 'Your recovery codes'),
    h('p', {}, 'Each works once, in place of the app\'s code, if you lose your phone. Save them somewhere safe now: they are not shown again.'),
    h('ul', { class: 'codes' }, codes.map(c => h('li', {}, h('code', {}, c)))),
    h('button', { type: 'button', onclick: onDone }, 'I have saved them'))
}

function twoStepSection (main, ctx, me) {
  const section = h('section', { class: 'panel', 'aria-labelledby': 'two-step-title' }, h('h2', { id: 'two-step-title' }, 'Two-step sign-in'))
  const onLine = [status('ok', 'On'), ' — signing in needs your password and a code from your authenticator app.']
  if (!me.user.totpEnabled) {
    const statusLine = h('p', {}, status('warn', 'Off'), ' — a stolen password alone is enough to sign in as you.')
    const start = h('button', {
      type: 'button',
      id: 'totp-start',
      onclick: async () => {
        const enrol = await api('POST', '/me/totp')
        const errors = errorBox()
        const form = h('form', { novalidate: true, id: 'totp-confirm' },
          h('div', { class: 'code-layout' },
            svgImage(enrol.qrSvg, 'QR code for your authenticator app'),
            h('div', {},
              h('p', {}, '1. Scan the QR code with an authenticator app, or type this key into it:'),
              h('p', {}, h('code', { id: 'totp-secret', class: 'wrap secret' }, enrol.secret)),
              h('p', {}, '2. Type the 6-digit code the app shows:'),
              field('Code from the app', h('input', { name: 'code', id: 'totp-code', inputmode: 'numeric', autocomplete: 'one-time-code', maxlength: 6, required: true })),
              errors.el,
              h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Turn on two-step sign-in')))))
        onSubmit(form, errors, async data => {
          const { recoveryCodes } = await api('POST', '/me/totp/confirm', { code: String(data.get('code')).trim() })
          fill(statusLine, onLine)
          form.replaceWith(recoveryCodesPanel(recoveryCodes, () => render(main, ctx)))
          section.querySelector('#recovery-codes h3').setAttribute('tabindex', '-1')
          section.querySelector('#recovery-codes h3').focus()
        })
        start.replaceWith(form)
        form.querySelector('#totp-code').focus()
      }
    }, 'Turn on two-step sign-in')
    section.append(statusLine, start)
    return section
  }

  const disableErrors = errorBox()
  const disable = h('form', { novalidate: true, id: 'totp-disable', class: 'subform' },
    h('h3', {}, 'Turn it off'),
    h('div', { class: 'row' },
      field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, id: 'disable-password' })),
      field('Code from the app, or a recovery code', h('input', { name: 'code', autocomplete: 'one-time-code', required: true, id: 'disable-code' }))),
    disableErrors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, 'Turn off two-step sign-in')))
  onSubmit(disable, disableErrors, async data => {
    await api('POST', '/me/totp/disable', { password: data.get('password'), code: String(data.get('code')).trim() })
    ctx.toast('Two-step sign-in is off')
    await render(main, ctx)
  })

  const newCodesErrors = errorBox()
  const newCodes = h('form', { novalidate: true, id: 'new-recovery-codes', class: 'subform' },
    h('h3', {}, 'Recovery codes'),
    h('p', {}, `${me.user.recoveryCodesLeft} of 10 left. New ones replace them all.`),
    field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, id: 'codes-password' })),
    newCodesErrors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, 'Make new recovery codes')))
  onSubmit(newCodes, newCodesErrors, async data => {
    const { recoveryCodes } = await api('POST', '/me/recovery-codes', { password: data.get('password') })
    newCodes.replaceWith(recoveryCodesPanel(recoveryCodes, () => render(main, ctx)))
  })
  section.append(h('p', {}, onLine), newCodes, disable)
  return section
}

function passwordSection (ctx) {
  const errors = errorBox()
  const form = h('form', { class: 'panel', novalidate: true, id: 'password-form', 'aria-labelledby': 'password-title' },
    h('h2', { id: 'password-title' }, 'Password'),
    h('div', { class: 'row' },
      field('Current password', h('input', { name: 'current', type: 'password', autocomplete: 'current-password', required: true, id: 'password-current' })),
      field('New password', h('input', { name: 'next', type: 'password', autocomplete: 'new-password', required: true, id: 'password-new' }), 'At least 12 characters.')),
    errors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary' }, 'Change password')))
  onSubmit(form, errors, async data => {
    await api('POST', '/me/password', { currentPassword: data.get('current'), newPassword: data.get('next') })
    form.reset()
    ctx.toast('Password changed; your other sessions are signed out')
  })
  return form
}

function tokenSection (main, ctx, tokens) {
  const errors = errorBox()
  const form = h('form', { novalidate: true, id: 'token-form' },
    h('div', { class: 'row' }, field('Token name', h('input', { name: 'name', required: true, id: 'token-name', maxlength: 64 }), 'What it is for, e.g. "nightly report".')),
    errors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create API token')))
  onSubmit(form, errors, async data => {
    const created = await api('POST', '/tokens', { name: String(data.get('name')).trim() })
    await render(main, ctx)
    const panel = main.querySelector('#token-created')
    panel.replaceChildren(h('div', { class: 'highlight' },
      h('p', {}, `Token “${created.record.name}” — copy it now, it is not shown again. Send it as `, h('code', {}, 'Authorization: Bearer …'), '.'),
      h('p', {}, h('code', { class: 'wrap secret', id: 'new-token' }, created.token))))
  })
  const rows = tokens.map(t => h('tr', {},
    h('th', { scope: 'row' }, t.name),
    h('td', {}, time(t.createdAt)),
    h('td', {}, t.lastUsedAt ? time(t.lastUsedAt) : 'never'),
    h('td', {}, t.revokedAt
      ? status('bad', 'Revoked')
      : h('button', {
        type: 'button', class: 'danger small', 'aria-label': `Revoke token ${t.name}`,
        onclick: async () => {
          if (!await confirmAction(`Revoke “${t.name}”?`, 'Anything using this token stops working at once.', 'Revoke token')) return
          await api('DELETE', `/tokens/${encodeURIComponent(t.id)}`)
          await render(main, ctx)
        }
      }, 'Revoke'))))
  return h('section', { class: 'panel', 'aria-labelledby': 'tokens-title' },
    h('h2', { id: 'tokens-title' }, 'API tokens'),
    h('p', {}, 'For scripts and automation. A token acts as you, with your role. The API is described at ', h('a', { href: '/api/docs' }, '/api/docs'), '.'),
    h('div', { id: 'token-created' }),
    form,
    tokens.length === 0 ? null : table('API tokens', ['Name', 'Created', 'Last used', 'Status'], rows))
}
