import { api } from '../api.js'
import { errorBox, field, fill, h, onSubmit } from '../dom.js'

export async function render (main, ctx) {
  const errors = errorBox()
  const form = h('form', { class: 'panel narrow', novalidate: true },
    h('h1', {}, 'Sign in'),
    field('Email', h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true, id: 'login-email' })),
    field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, id: 'login-password' })),
    errors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Sign in')))
  onSubmit(form, errors, async data => {
    const result = await api('POST', '/login', { email: data.get('email'), password: data.get('password') })
    if (result.status === 'second-factor') secondStep(main, ctx, result.ticket)
    else await ctx.onSignedIn()
  })
  fill(main, form)
}

function secondStep (main, ctx, ticket) {
  const errors = errorBox()
  const form = h('form', { class: 'panel narrow', novalidate: true },
    h('h1', {}, 'Two-step sign-in'),
    h('p', {}, 'Type the 6-digit code your authenticator app shows for Aerie.'),
    field('Code', h('input', { name: 'code', autocomplete: 'one-time-code', inputmode: 'numeric', required: true, id: 'login-code', maxlength: 20 }),
      'Lost your phone? Type one of your recovery codes instead (like abcd-efgh-ijkl).'),
    errors.el,
    h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Continue'),
      h('button', { type: 'button', class: 'secondary', onclick: () => render(main, ctx) }, 'Start again')))
  onSubmit(form, errors, async data => {
    await api('POST', '/login/second-factor', { ticket, code: String(data.get('code')).trim() })
    await ctx.onSignedIn()
  })
  fill(main, form)
  form.querySelector('h1').setAttribute('tabindex', '-1')
  form.querySelector('#login-code').focus()
}
